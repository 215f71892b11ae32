"""Import TensorFlow without its start-up chatter on stderr.

nbgrader scores any stderr output of a test cell as a failure, so TensorFlow's logging must be silenced
before its first import. Setting TF_ENABLE_ONEDNN_OPTS=0 also removes the oneDNN notice and keeps the
float rounding of every run identical to the reference's.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import tensorflow as tf  # noqa: E402

tf.get_logger().setLevel("ERROR")

__all__ = ["tf"]
