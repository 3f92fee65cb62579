"""Running training on several processes with TensorFlow's gRPC runtime.

`local_cluster` runs a whole cluster as processes on one machine (and
supervises them); `server` runs one task's server on its own, for clusters
described with slim's flags. How a single trainer finds its place in a
cluster is `slim_resnets.training.cluster`.
"""
