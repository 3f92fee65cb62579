"""Installs nets, resnet_utils, datasets, preprocessing, training, distributed.

TensorFlow and tf-keras must come from the same minor release: tf-slim's
batch norm runs on tf-keras's legacy layers, which track TensorFlow's
internals. BUILD.md lists the versions that were checked.
"""

import setuptools

setuptools.setup(
    name='slim-resnets',
    version='0.1.0',
    description=('TF-Slim-style ResNet graph builders for current TensorFlow, '
                 'compatible with the published slim checkpoints.'),
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    python_requires='>=3.10,<3.14',
    packages=setuptools.find_packages(include=['nets', 'nets.*',
                                               'resnet_utils',
                                               'resnet_utils.*',
                                               'datasets',
                                               'preprocessing',
                                               'training',
                                               'distributed']),
    install_requires=[
        'tensorflow>=2.16,<2.22',
        'tf-keras>=2.16,<2.22',
        # Keras 3 (TensorFlow's own Keras): the peer in benchmarks/.
        'keras>=3.6,<4',
        'tf-slim==1.1.0',
        'absl-py>=2.1,<3',
        'numpy>=1.26,<3',
    ],
    extras_require={
        'digits': ['scikit-learn>=1.3,<2'],
        'test': ['pytest>=8,<10', 'pytest-xdist>=3.5,<4',
                 'scikit-learn>=1.3,<2'],
    },
    license='Apache-2.0',
    classifiers=[
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
)
