"""Installs nets, resnet_utils and slim_resnets (everything else).

TensorFlow and tf-keras must come from the same minor release: tf-slim's
batch norm runs on tf-keras's legacy layers, which track TensorFlow's
internals. BUILD.md lists the versions that were checked.
"""

import setuptools

# tf2onnx 1.17 is the release that reads TensorFlow 2.21's graphs;
# onnxruntime and openvino are the versions checked (BUILD.md).
_SERVING = ['tf2onnx==1.17.0', 'onnxruntime>=1.20,<1.33',
            'openvino>=2025.0,<2027']

setuptools.setup(
    name='slim-resnets',
    version='0.1.0',
    description=('TF-Slim-style ResNet graph builders for current TensorFlow, '
                 'compatible with the published slim checkpoints.'),
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    python_requires='>=3.10,<3.14',
    # Exactly three top-level names: the slim import paths `nets` and
    # `resnet_utils`, and the project package for everything else.
    packages=setuptools.find_packages(include=['nets', 'nets.*',
                                               'resnet_utils',
                                               'resnet_utils.*',
                                               'slim_resnets',
                                               'slim_resnets.*']),
    install_requires=[
        'tensorflow>=2.16,<2.22',
        'tf-keras>=2.16,<2.22',
        'tf-slim==1.1.0',
        # Keras 3, for nets.keras_nets (TensorFlow's own Keras since 2.16).
        'keras>=3.6,<4',
        'absl-py>=2.1,<3',
        'numpy>=1.26,<3',
    ],
    extras_require={
        'digits': ['scikit-learn>=1.3,<2'],
        # Users' segmentation masks: palette PNGs (Pillow reads the indices)
        # and SBD's .mat label maps (SciPy).
        'segmentation-data': ['pillow>=10,<14', 'scipy>=1.10,<2'],
        # Keras's JAX backend, on which nets.keras_nets also runs.
        'jax': ['jax>=0.6,<0.11'],
        # export_inference_graph.py --format=onnx / openvino, and the
        # runtimes that serve those files.
        'serving': _SERVING,
        # The benchmarks' optional peers (PyTorch; the serving runtimes) and
        # their plots. torch's Linux wheel pulls in its CUDA libraries
        # (about 3 GB), so it stays out of 'test'.
        'bench': _SERVING + ['torch>=2.4,<2.15', 'torchvision>=0.19,<0.30',
                             'matplotlib>=3.8,<4'],
        # pytest 9.2 moved node ids where pytest-xdist 3.8's loadgroup cannot
        # tag them: groups would silently spread over the workers
        # (tests/conftest.py refuses to run that way).
        'test': ['pytest>=8,<9.2', 'pytest-xdist>=3.5,<4',
                 'scikit-learn>=1.3,<2', 'pillow>=10,<14', 'scipy>=1.10,<2',
                 'jax>=0.6,<0.11', 'matplotlib>=3.8,<4'] + _SERVING,
        'lint': ['ruff==0.17.5'],
    },
    license='Apache-2.0',
    classifiers=[
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
)
