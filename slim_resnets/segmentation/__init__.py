"""DeepLab-style semantic segmentation over the ResNet backbones.

`model` builds DeepLab v3 (atrous spatial pyramid pooling on the backbone's
dense features) and v3+ (a decoder that refines with the backbone's
features at a finer stride) over any net of `nets.nets_factory`, in graph
mode like the nets, with DeepLab's variable scopes. `losses` and `metrics`
hold the pixel-wise loss and the mean-IoU arithmetic.
"""
