"""Benchmarks of the nets and their fast paths against the peers.

`python -m benchmarks.throughput` measures training and inference speed of
a network against Keras Applications and the tf_slim.nets oracle in one
process; `python -m benchmarks.tflite` measures the int8 serving path on the
digits model. BENCHMARKS.md holds the figures and the commands.
"""
