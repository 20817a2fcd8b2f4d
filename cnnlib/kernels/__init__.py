"""Array kernels behind the layers: plain functions on NumPy arrays, no state.

``conv``   general stride-1 convolution (im2col / col2im) and its slow loop reference.
``pool``   average and max pooling with stride = kernel.
``fused``  the fast path for conv -> ReLU -> 2x2 average pool used by ``nn.Sequential``.
"""
