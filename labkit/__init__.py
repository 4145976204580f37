"""labkit: the small package behind the autoencoder course lab kit.

Every lab notebook starts with ``labkit.setup()``, which reads the kit's settings (quick mode, seed, data
folder) once, seeds the random generators and says what it found. The modules are named by their nouns:
``data``, ``noise``, ``metrics``, ``models``, ``train``, ``plots``, ``checks``, ``bank``, ``quiz``,
``viva``, ``features``, ``transfer``, ``assign``, ``grading``, ``figures``.
"""

import logging
import os
import sys

# TensorFlow's C++ log lines ("E0000 ... remapper failed", "oneDNN supports DT_INT32 only ...") are noise to
# a student and would be saved in a notebook's outputs: inside a Jupyter kernel, hide all but fatal ones (3);
# in a terminal (labkit reproduce, scripts) keep its errors (2). A value set beforehand wins. TensorFlow reads
# it once, at its first log line, so labkit must be imported before tensorflow or keras.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3" if "ipykernel" in sys.modules else "2")


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with its C++ start-up lines muted (they would fill every notebook's output).

    TensorFlow writes them to file descriptor 2 before its log level is read, so only muting the
    descriptor during the import hides them. Done only inside a Jupyter kernel, where they are noise;
    a terminal user sees TensorFlow as it is.
    """
    if "tensorflow" in sys.modules or "ipykernel" not in sys.modules:
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")  # the CUDA probe logs an error on machines without a GPU
    except ImportError:
        pass  # the NumPy-only parts of the kit still work; importing keras will say what is missing
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class _FreshModelsRetracing(logging.Filter):
    """Drops TensorFlow's "N out of the last M calls to <function TensorFlowTrainer...> triggered tf.function
    retracing" warning, and nothing else.

    Keras gives every model its own training, test and prediction functions, each traced once (see
    ``labkit.train.build_before_tracing``); a lab that trains and evaluates fresh models in a loop (Lab 3's code
    sizes, Lab 4's label-budget study) makes TensorFlow count the first traces of different models as retracing
    one function, and in quick mode, with few steps between them, it warns. A student's own ``tf.function``
    retracing is not Keras's trainer and still shows.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("triggered tf.function retracing" in message and "TensorFlowTrainer" in message)


logging.getLogger("tensorflow").addFilter(_FreshModelsRetracing())
_import_tensorflow_quietly()

from labkit import figures  # noqa: E402  (standard library only: labkit.figures.show in every lab)
from labkit.config import Settings, settings, setup  # noqa: E402

__version__ = "0.1.0"

__all__ = ["Settings", "settings", "setup", "__version__"]
