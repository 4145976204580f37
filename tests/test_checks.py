"""The self-checks must pass correct work and explain wrong work in plain words."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from labkit import checks, models
from labkit.checks import CheckFailed

X = np.random.default_rng(0).random((600, 784), dtype=np.float32)
