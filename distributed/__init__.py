"""Training on several machines with TensorFlow's gRPC runtime.

`cluster` says where a process sits in a cluster (TF_CONFIG or slim's
flags) and what follows from it (device placement, session filters, its
server); `local_cluster` runs a whole cluster as processes on one machine;
`server` runs one task's server on its own, for slim-style clusters.
"""
