"""Exports a trained classifier: SavedModel (default), ONNX or OpenVINO IR.

    python export_inference_graph.py --model_name=resnet_v1_cifar_20 \
        --checkpoint_path=/tmp/train --num_classes=10 \
        --output_dir=/tmp/export/saved_model \
        --frozen_graph=/tmp/export/frozen.pb

The serving signature 'serving_default' takes `images` (uint8 0-255 or, with
--input_type=float32, floats in 0-1; any size) and returns `probabilities`,
`classes` (top-k dataset labels) and `scores`; preprocessing is inside.

--format=onnx writes model.onnx, --format=openvino model.xml/.bin, each
with serving.json, into --output_dir: the network alone, taking float32
images already preprocessed to the model's size (serving.json says which),
with the same outputs. Batch norms are folded into the convolutions in
every format unless --nofold_batch_norms.
"""


from absl import app
from absl import flags

from slim_resnets import console
from slim_resnets.training import cli

flags.DEFINE_string('model_name', 'resnet_v2_50', 'Network from nets_factory.')
flags.DEFINE_string('checkpoint_path', None,
                    'Checkpoint file, or a directory (its latest checkpoint).')
flags.DEFINE_integer('num_classes', None, 'Logits of the checkpoint; from the '
                     'published checkpoint of --model_name when unset.')
flags.DEFINE_integer('labels_offset', 0,
                     'Added to predicted classes to give dataset labels.')
flags.DEFINE_string('output_dir', None, 'SavedModel directory (must be new).')
flags.DEFINE_string('frozen_graph', None,
                    'Also write a frozen GraphDef here (must be new).')
flags.DEFINE_integer('image_size', None, 'Network input size; model default '
                     'when unset.')
flags.DEFINE_string('preprocessing_name', None,
                    'Preprocessing; the model\'s default when unset.')
flags.DEFINE_enum('input_type', 'uint8', ['uint8', 'float32'],
                  'Type of the images fed to the signature.')
flags.DEFINE_integer('top_k', 5, 'Classes returned per image.')
flags.DEFINE_enum('format', 'saved_model', ['saved_model', 'onnx', 'openvino'],
                  'What to write into --output_dir (onnx and openvino need '
                  "pip install 'slim-resnets[serving]').")
flags.DEFINE_bool('fold_batch_norms', True,
                  'Fold each batch norm that follows a convolution into it.')
flags.mark_flags_as_required(['checkpoint_path', 'output_dir'])
FLAGS = flags.FLAGS
_FORMAT_NAMES = {'saved_model': 'SavedModel', 'onnx': 'ONNX model',
                 'openvino': 'OpenVINO IR'}


def main(argv):
  del argv  # console.parse_flags refuses positional arguments
  # pylint: disable=g-import-not-at-top
  from slim_resnets.serving import export_lib
  from slim_resnets.training import run_settings
  run_settings.apply_to_flags(FLAGS, FLAGS.checkpoint_path)
  result = cli.run_main(lambda: export_lib.export(
      FLAGS.checkpoint_path, FLAGS.model_name, FLAGS.num_classes,
      FLAGS.output_dir, FLAGS.frozen_graph, FLAGS.image_size,
      FLAGS.preprocessing_name, FLAGS.input_type, FLAGS.top_k,
      FLAGS.labels_offset, FLAGS['format'].value, FLAGS.fold_batch_norms),
                          verbosity='WARN')
  folded = ''
  if result.fold_report:
    report = result.fold_report
    folded = '; %d of %d batch norms folded into convolutions' % (
        len(report.folded),
        len(report.folded) + len(report.affine) + len(report.kept))
    if report.affine:
      folded += ', %d into a scale and bias' % len(report.affine)
  print('Exported %s to %s%s (input %dx%d, %d classes%s)'
        % (_FORMAT_NAMES[result.export_format], result.saved_model_dir,
           ' and frozen graph to %s' % result.frozen_graph
           if result.frozen_graph else '', result.image_size,
           result.image_size, result.num_classes, folded))


if __name__ == '__main__':
  app.run(main, flags_parser=console.parse_flags)
