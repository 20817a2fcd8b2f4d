#!/usr/bin/env bash
# Set up this project on a fresh machine: a virtual environment in .venv with cnnlib and
# the workflow's Python packages, and TeX Live for the PDF report where it can be installed.
#   ./setup.sh          what `snakemake --cores 4` needs
#   ./setup.sh --dev    plus the test tools (pytest, PyTorch 2.13 as the reference, snakefmt);
#                       with CNNLIB_MNIST=DIR set, also copies MNIST from DIR (checked) into
#                       ~/.cache/cnnlib/mnist, where the tests look when the variable is not set
set -euo pipefail
cd "$(dirname "$0")"
extra=workflow
[ "${1:-}" = "--dev" ] && extra=dev

# Chinese (and Japanese kana) in titles: latex-cjk-* for CJKutf8 and the font AR PL SungtiL GB,
# fonts-arphic-gbsn00lp the same font for the figures (18 MB together)
tex_packages="texlive-latex-recommended texlive-latex-extra lmodern poppler-utils latex-cjk-common latex-cjk-chinese-arphic-gbsn00lp fonts-arphic-gbsn00lp"
if command -v pdflatex >/dev/null && command -v pdftotext >/dev/null && kpsewhich CJKutf8.sty c70gbsn.fd >/dev/null \
  && [ -n "$(find /usr/share/fonts -name gbsn00lp.ttf 2>/dev/null)" ]; then
  :
elif command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "installing TeX Live (about 300 MB, under a minute)..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $tex_packages >/dev/null
elif command -v apt-get >/dev/null && command -v sudo >/dev/null; then
  echo "installing TeX Live with sudo (about 300 MB)..."
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $tex_packages >/dev/null
else
  echo "note: no TeX found (or not its CJK part, for Chinese titles). Without TeX the report is written as"
  echo "      results/report.md only; for the PDF install TeX Live (Debian/Ubuntu: $tex_packages;"
  echo "      Fedora: texlive-scheme-medium, with CTAN's cjk and arphic for Chinese; macOS: MacTeX) and rerun snakemake."
fi

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e ".[$extra]"
if [ "$extra" = dev ] && [ -n "${CNNLIB_MNIST:-}" ]; then
  # the tests read CNNLIB_MNIST when it is set, else this copy (checked first, then copied once)
  .venv/bin/python -m cnnlib download-mnist --from "$CNNLIB_MNIST"
fi
echo "ready: .venv has cnnlib and the $extra packages"
