"""Plausible wrong answers to Lab 3's exercises: each must fail the self-check and the grader alike.

``MISTAKES[grade_id]`` maps a short description to the source of a whole exercise cell, as a student might
write it. ``tests/test_exercises.py`` runs each one through the notebook's own self-check calls and through
the grader's observer and rule; the adversarial corpus takes its honest-but-wrong answers from here (the
first of each exercise, which runs without error).
"""

_RATIO = '''def compression_ratio(latent, input_dim=784):
    return {ratio}'''

_ENCODER = '''LATENT = 16
image = keras.Input(shape={input_shape}, name="image")
x = {first}
for filters in (16, 32):
    x = layers.Conv2D(filters, 3, {conv})(x)
{conv_block}x = layers.Flatten()(x)
for units in {widths}:
    x = layers.Dense(units{dense})(x)
{dense_block}code = layers.Dense({latent}, {code}name="code")(x)
encoder = keras.Model(image, code, name="encoder")'''

_NORMALISED = '''    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
'''
_ACTIVATION_FIRST = '''    x = layers.Activation("relu")(x)
    x = layers.BatchNormalization()(x)
'''


def _encoder(input_shape="(28, 28, 1)", first="image", conv='strides=2, padding="same", use_bias=False',
             conv_block=_NORMALISED, widths="(1024, 512, 128)", dense=", use_bias=False", dense_block=_NORMALISED,
             latent="LATENT", code="") -> str:
    return _ENCODER.format(input_shape=input_shape, first=first, conv=conv, conv_block=conv_block, widths=widths,
                           dense=dense, dense_block=dense_block, latent=latent, code=code)


_PROBE = '''from sklearn.linear_model import LogisticRegression{imports}
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def probe_accuracy(train_codes, train_labels, test_codes, test_labels):
    probe = make_pipeline(StandardScaler(), {classifier})
    probe.fit({fit})
    return {result}'''


def _probe(classifier="LogisticRegression(max_iter=1000)", fit="train_codes, train_labels",
           result="float(probe.score(test_codes, test_labels))", imports="") -> str:
    return _PROBE.format(classifier=classifier, fit=fit, result=result, imports=imports)


_SCORES = '''def anomaly_scores(images, reconstructions):
    p = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    q = {q}
    p_clipped = {p_clipped}
    bce = -np.mean(p * np.log(q) + (1 - p) * np.log(1 - q), axis={axis})
    own_floor = -np.mean(p * np.log(p_clipped) + (1 - p) * np.log(1 - p_clipped), axis={axis})
    return {result}'''


def _scores(q="np.clip(np.asarray(reconstructions, dtype=np.float64).reshape(len(images), -1), 1e-7, 1 - 1e-7)",
            p_clipped="np.clip(p, 1e-7, 1 - 1e-7)", axis="1", result="bce - own_floor") -> str:
    return _SCORES.format(q=q, p_clipped=p_clipped, axis=axis, result=result)


_THRESHOLD = '''def choose_threshold(normal_scores, false_alarm_rate):
    return {threshold}'''

MISTAKES = {
    "L3-ratio": {
        "the ratio the other way round": _RATIO.format(ratio="latent / input_dim"),
        "integer division": _RATIO.format(ratio="input_dim // latent"),
        "always 784, whatever input_dim says": _RATIO.format(ratio="784 / latent"),
        "rounded to a whole number": _RATIO.format(ratio="round(input_dim / latent)"),
    },
    "L3-encoder": {
        "a ReLU code": _encoder(code='activation="relu", '),
        "biases before batch normalisation": _encoder(conv='strides=2, padding="same"', dense=""),
        "ReLU before batch normalisation": _encoder(conv_block=_ACTIVATION_FIRST, dense_block=_ACTIVATION_FIRST),
        "max pooling instead of strides": _encoder(
            conv='padding="same", use_bias=False',
            conv_block=_NORMALISED + "    x = layers.MaxPooling2D(2)(x)\n"),
        "no batch normalisation": _encoder(conv='strides=2, padding="same", activation="relu"', conv_block="",
                                           dense=', activation="relu"', dense_block=""),
        "only the 128-unit Dense layer": _encoder(widths="(128,)"),
        "a code of 8 numbers": _encoder(latent="8"),
        "LATENT changed to 8": _encoder().replace("LATENT = 16", "LATENT = 8"),
        "flat images in": _encoder(input_shape="(784,)", first="layers.Reshape((28, 28, 1))(image)"),
    },
    "L3-probe": {
        "scored on the training codes": _probe(result="float(probe.score(train_codes, train_labels))"),
        "fitted on the test codes": _probe(fit="test_codes, test_labels"),
        "fitted on training and test codes together": _probe(
            fit="np.concatenate([train_codes, test_codes]), np.concatenate([train_labels, test_labels])"),
        "k-nearest neighbours instead of a linear probe": _probe(
            classifier="KNeighborsClassifier()", imports="\nfrom sklearn.neighbors import KNeighborsClassifier"),
        "a percentage": _probe(result="100 * float(probe.score(test_codes, test_labels))"),
        "the error rate": _probe(result="1 - float(probe.score(test_codes, test_labels))"),
    },
    "L3-scores": {
        "plain BCE, no floor subtracted": _scores(result="bce"),
        "one score for the whole batch": _scores(axis="None"),
        "one floor for the whole batch": _scores(result="bce - own_floor.mean()"),
        "mean squared error": _scores(result="np.mean((p - np.asarray(reconstructions, dtype=np.float64)"
                                             ".reshape(len(images), -1)) ** 2, axis=1)"),
        "never clipped": _scores(q="np.asarray(reconstructions, dtype=np.float64).reshape(len(images), -1)",
                                 p_clipped="p"),
    },
    "L3-threshold": {
        "the rate itself as the quantile": _THRESHOLD.format(
            threshold="float(np.quantile(normal_scores, false_alarm_rate))"),
        "np.percentile given a fraction": _THRESHOLD.format(
            threshold="float(np.percentile(normal_scores, 1 - false_alarm_rate))"),
        "mean plus two standard deviations": _THRESHOLD.format(
            threshold="float(np.mean(normal_scores) + 2 * np.std(normal_scores))"),
        "the highest normal score": _THRESHOLD.format(threshold="float(np.max(normal_scores))"),
        "an array of one quantile": _THRESHOLD.format(
            threshold="np.quantile(normal_scores, [1 - false_alarm_rate])"),
    },
}
