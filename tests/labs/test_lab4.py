"""Lab 4's self-checks (labkit.labs.lab4.checks) and rules (labkit.labs.lab4.rules): correct work passes, wrong
work is explained in plain words, and the grader's side judges exported data the same way."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from labkit import checks, data, models, transfer
from labkit.checks import CheckFailed, judge, observe_into
from labkit.grading.exchange import Exported, save_observation
from labkit.labs.lab4 import CUT, FINE_TUNE_RATE, LEARNING_RATE, grading, rules


@pytest.fixture
def quick(monkeypatch):
    """Quick mode: the classifier's self-check reads the shipped sample's size, as the notebook does."""
    monkeypatch.setenv("LABKIT_QUICK", "1")


def decay_steps() -> int:
    """The head's schedule length for the shipped Fashion-MNIST sample (what quick mode trains on)."""
    (_, labels), _ = data.load_sample("fashion-mnist")
    return rules.decay_steps(labels)


def cut(encoder, layer=CUT):
    return keras.Model(encoder.input, encoder.get_layer(layer).output, name="mnist_features")


def classifier(features, **compile_options):
    """The lab's frozen classifier on ``features``, compiled with the cosine schedule (or ``compile_options``)."""
    options = {"learning_rate": LEARNING_RATE, "decay_steps": decay_steps(), **compile_options}
    return transfer.compile_classifier(transfer.classification_head(features, name="frozen_transfer"), **options)


# --- Exercise 1: the convolutional encoder and decoder ----------------------------------------------

@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_correct_conv_encoder_and_decoder_pass_in_either_precision(monkeypatch, capsys, precision):
    """Do the lab's baseline encoder and decoder get a ✅ each, whether the kit builds them in float32 or in mixed
    bfloat16 (the reference is rebuilt under each layer's own policy)?"""
    monkeypatch.setenv("LABKIT_PRECISION", precision)
    _, encoder, decoder = models.conv_autoencoder((32, 16, 8))
    assert encoder.get_layer("enc_conv1").dtype_policy.name == precision
    checks.check_conv_encoder(encoder)
    checks.check_conv_decoder(decoder)
    assert capsys.readouterr().out.count("✅") == 2


def test_conv_encoder_without_same_padding_is_explained():
    """Is an encoder whose convolutions shrink the image told to use padding='same'?"""
    image = keras.Input(shape=(28, 28, 1))
    x = layers.MaxPooling2D(2)(layers.Conv2D(32, 3, activation="relu")(image))
    x = layers.MaxPooling2D(2)(layers.Conv2D(16, 3, activation="relu")(x))
    encoder = keras.Model(image, layers.Conv2D(8, 3, activation="relu")(x))
    with pytest.raises(CheckFailed, match="padding='same'"):
        checks.check_conv_encoder(encoder)


def test_conv_encoder_that_shrinks_without_max_pooling_is_told_to_max_pool():
    """Is an encoder of the right shapes that averages, or that shrinks in any other way than max-pooling, told to
    use MaxPooling2D (its outputs differ from the lab's with the same weights)?"""
    conv = {"kernel_size": 3, "padding": "same", "activation": "relu"}
    image = keras.Input(shape=(28, 28, 1))
    x = layers.AveragePooling2D(2)(layers.Conv2D(32, **conv)(image))
    x = layers.AveragePooling2D(2)(layers.Conv2D(16, **conv)(x))
    averaging = keras.Model(image, layers.Conv2D(8, **conv)(x))
    with pytest.raises(CheckFailed, match="MaxPooling2D"):
        checks.check_conv_encoder(averaging)
    x = layers.Conv2D(32, strides=2, **conv)(image)
    x = layers.Conv2D(16, strides=2, **conv)(x)
    strided = keras.Model(image, layers.Conv2D(8, **conv)(x))
    with pytest.raises(CheckFailed, match="MaxPooling2D"):
        checks.check_conv_encoder(strided)


def test_decoder_that_convolves_before_upsampling_is_explained():
    """Is a decoder with the right widths but convolutions at the smaller sizes told to upsample first,
    and one without a sigmoid told why it needs one?"""
    code = keras.Input(shape=(7, 7, 8))
    x = layers.UpSampling2D(2)(layers.Conv2D(16, 3, padding="same", activation="relu")(code))
    x = layers.UpSampling2D(2)(layers.Conv2D(32, 3, padding="same", activation="relu")(x))
    late = keras.Model(code, layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x))
    with pytest.raises(CheckFailed, match="Upsample first"):
        checks.check_conv_decoder(late)
    _, _, decoder = models.conv_autoencoder((32, 16, 8))
    last = decoder.get_layer("dec_conv2").output
    no_sigmoid = keras.Model(decoder.input, layers.Conv2D(1, 3, padding="same", activation="relu")(last))
    with pytest.raises(CheckFailed, match="sigmoid"):
        checks.check_conv_decoder(no_sigmoid)


def test_wrong_filters_and_wrong_objects_are_explained():
    """Is the improved model checked against the baseline's filters told which widths were expected, and a layer
    handed in where a model is expected told to build a keras.Model?"""
    _, encoder, _ = models.conv_autoencoder((64, 32, 16))
    with pytest.raises(CheckFailed, match=r"\(None, 7, 7, 8\)"):
        checks.check_conv_encoder(encoder)
    with pytest.raises(CheckFailed, match=r"\[32, 16, 16\] filters.*found Conv2D filters \[64, 32, 16\]"):
        checks.check_conv_encoder(encoder, filters=(32, 16, 16))
    with pytest.raises(CheckFailed, match="keras.Model"):
        checks.check_conv_decoder(layers.Conv2D(1, 3))


def test_a_subclassed_model_is_told_to_use_the_functional_api():
    """Is a subclassed model, which has no inputs and outputs to read, told to build keras.Model(inputs, outputs)
    instead of breaking the check?"""
    class Encoder(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv = layers.Conv2D(8, 3, padding="same")

        def call(self, images):
            return self.conv(images)

    encoder = Encoder()
    encoder(np.zeros((1, 28, 28, 1), "float32"))
    with pytest.raises(CheckFailed, match=r"subclassed model.*keras.Model\(inputs, outputs"):
        checks.check_conv_encoder(encoder)


# --- Exercise 2: the frozen feature extractor --------------------------------------------------------

def test_frozen_features_pass_and_unfrozen_ones_are_explained(capsys):
    """Is a frozen cut of the encoder's copy accepted, and a trainable one told to set trainable = False?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    features = cut(transfer.copy_model(encoder))
    with pytest.raises(CheckFailed, match="trainable = False"):
        checks.check_frozen_features(features, encoder, layer=CUT)
    features.trainable = False
    checks.check_frozen_features(features, encoder, layer=CUT)
    assert capsys.readouterr().out.startswith("✅")


def test_features_with_fresh_weights_are_refused():
    """Are new random layers of the right shape refused because they are not the MNIST weights?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    _, other, _ = models.conv_autoencoder((8, 4, 2))
    features = transfer.freeze(cut(other))
    with pytest.raises(CheckFailed, match="learned"):
        checks.check_frozen_features(features, encoder, layer=CUT)


def test_a_cut_of_the_encoder_itself_and_a_cut_elsewhere_are_refused():
    """Is a cut of the MNIST encoder itself (not its copy) told to cut the copy, and a cut after another layer told
    which layer it cut after?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    with pytest.raises(CheckFailed, match="Cut mnist_copy"):
        checks.check_frozen_features(transfer.freeze(cut(encoder)), encoder, layer=CUT)
    with pytest.raises(CheckFailed, match="the output of 'enc_conv2'"):
        checks.check_frozen_features(transfer.freeze(cut(transfer.copy_model(encoder), "enc_conv2")), encoder,
                                     layer=CUT)


# --- Exercise 3: the classifier on frozen features ---------------------------------------------------

def test_transfer_classifier_passes_and_a_hidden_layer_is_refused(quick, capsys):
    """Is frozen features → Flatten → Dense(10) on the cosine schedule accepted, and an extra Dense(128) refused?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    features = transfer.freeze(cut(encoder))
    checks.check_transfer_classifier(classifier(features), features)
    assert capsys.readouterr().out.startswith("✅")
    image = keras.Input(shape=(28, 28, 1))
    x = layers.Dense(128, activation="relu")(layers.Flatten()(features(image)))
    bad = keras.Model(image, layers.Dense(10, activation="softmax")(x))
    bad.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(CheckFailed, match="single Dense"):
        checks.check_transfer_classifier(bad, features)


def test_classifier_with_trainable_features_is_refused(quick):
    """Does a head on features that were never frozen fail with the count of parameters it would train?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    features = cut(encoder)
    with pytest.raises(CheckFailed, match="Keep features frozen"):
        checks.check_transfer_classifier(classifier(features), features)


@pytest.mark.parametrize("compile_options, message", [
    ({"decay_steps": None}, "a constant 0.001"),
    ({"decay_steps": 100}, "over [0-9,]+ steps"),
    ({"learning_rate": FINE_TUNE_RATE}, "a cosine from 0.001"),
])
def test_classifier_off_the_cosine_schedule_is_refused(quick, compile_options, message):
    """Are a constant rate, a schedule of another length and one from another rate each told to use the cell's
    schedule?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    features = transfer.freeze(cut(encoder))
    with pytest.raises(CheckFailed, match=message):
        checks.check_transfer_classifier(classifier(features, **compile_options), features)


@pytest.mark.parametrize("loss, metrics, message", [
    ("mse", ["accuracy"], "sparse_categorical_crossentropy"),
    ("categorical_crossentropy", ["accuracy"], "integer labels"),
    ("sparse_categorical_crossentropy", [], "metrics=\\['accuracy'\\]"),
])
def test_classifier_with_another_loss_or_no_accuracy_is_refused(quick, loss, metrics, message):
    """Are a loss other than sparse categorical cross-entropy (judged by its value, or by the error it raises on
    integer labels) and a missing accuracy metric each explained?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    features = transfer.freeze(cut(encoder))
    model = transfer.classification_head(features)
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(LEARNING_RATE,
                                                                                          decay_steps())),
                  loss=loss, metrics=metrics)
    with pytest.raises(CheckFailed, match=message):
        checks.check_transfer_classifier(model, features)


def test_the_classifier_check_reads_the_notebooks_data_without_downloading_or_warning(recwarn):
    """Outside quick mode, with no data folder and no network, does the check take the schedule's length from the
    shipped sample the notebook fell back to, with no download attempt and no second warning?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    features = transfer.freeze(cut(encoder))
    checks.check_transfer_classifier(classifier(features), features)
    assert not [warning for warning in recwarn if issubclass(warning.category, data.SampleDataWarning)]


def test_checking_the_classifier_trains_a_copy_and_leaves_the_model_as_it_was(quick):
    """Do the check's training steps leave the student's classifier untouched: same weights, optimizer at step 0?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    features = transfer.freeze(cut(encoder))
    model = classifier(features)
    before = transfer.weight_snapshot(model)
    checks.check_transfer_classifier(model, features)
    assert transfer.frozen_weights_unchanged(model, before)
    assert int(model.optimizer.iterations.numpy()) == 0


# --- Exercise 4: fine-tuning ---------------------------------------------------------------------------

def test_fine_tuning_needs_unfrozen_weights_and_a_small_rate(capsys):
    """Are a still-frozen encoder and Adam's default rate refused, and unfrozen + 1e-4 accepted?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    features = transfer.freeze(cut(encoder))
    model = transfer.compile_classifier(transfer.classification_head(features), learning_rate=1e-4)
    with pytest.raises(CheckFailed, match="then compile again"):
        checks.check_fine_tuning(model)
    features.trainable = True
    transfer.compile_classifier(model, learning_rate=1e-3)
    with pytest.raises(CheckFailed, match="small"):
        checks.check_fine_tuning(model)
    transfer.compile_classifier(model, learning_rate=1e-4)
    checks.check_fine_tuning(model)
    assert capsys.readouterr().out.startswith("✅")


def test_a_copy_of_the_frozen_model_that_was_not_compiled_again_is_told_to_compile():
    """Is an unfrozen copy that keeps its original's optimizer (a copy is compiled like its original) told to
    compile again, with its rate named?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    frozen = transfer.compile_classifier(transfer.classification_head(transfer.freeze(cut(encoder))),
                                         learning_rate=LEARNING_RATE, decay_steps=100)
    copy = transfer.copy_model(frozen, name="fine_tuned")
    copy.get_layer("mnist_features").trainable = True
    with pytest.raises(CheckFailed, match="found 0.001 at the first step.*Compile again"):
        checks.check_fine_tuning(copy)


# --- Exercise 5: a balanced subset of labels ------------------------------------------------------------

def reference_balanced_subset(labels, n, seed):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.choice(np.flatnonzero(labels == c), n // 10, replace=False) for c in range(10)])


def test_correct_balanced_subset_passes(capsys):
    """Does a correct balanced draw get a ✅?"""
    checks.check_balanced_subset(reference_balanced_subset)
    assert capsys.readouterr().out.startswith("✅")


@pytest.mark.parametrize("wrong, message", [
    (lambda labels, n, seed: np.random.default_rng(seed).choice(len(labels), n, replace=False), "of each class"),
    (lambda labels, n, seed: np.concatenate([np.random.default_rng(seed).choice(np.flatnonzero(labels == c), n // 10)
                                            for c in range(10)]), "without replacement"),
    (lambda labels, n, seed: reference_balanced_subset(labels, n, None), "the same subset"),
    (lambda labels, n, seed: reference_balanced_subset(labels, n, 0), "different subsets"),
    (lambda labels, n, seed: labels[:n], "not the labels themselves"),
    (lambda labels, n, seed: list(reference_balanced_subset(labels, n, seed).astype(float)), "integer indices"),
    (lambda labels, n, seed: reference_balanced_subset(labels, n, seed)[: n // 2], "indices \\(.* of each"),
])
def test_wrong_balanced_subsets_are_explained(wrong, message):
    """Are unbalanced draws, repeats, ignored seeds, returned labels, float indices and wrong sizes each explained?"""
    with pytest.raises(CheckFailed, match=message):
        checks.check_balanced_subset(wrong)


def test_not_a_function_is_explained():
    """Is a value handed in where balanced_subset's function is expected explained?"""
    with pytest.raises(CheckFailed, match="a function"):
        checks.check_balanced_subset(np.arange(10))


# --- the grader's side: the same rules on exported data -------------------------------------------

def judged(folder, exercise, observed: dict, inputs: dict, expected: dict | None = None) -> list[str]:
    save_observation(folder, observed)
    return judge(exercise, Exported(folder), inputs, expected or {})


def test_every_draw_of_the_grader_can_tell_the_budget_mistakes_apart():
    """Does every random draw of inputs give budgets of whole tens, two seeds, and classes with 1-3 images more
    than a draw takes (so that a draw with replacement repeats and two seeds can differ)?"""
    for seed in range(200):
        inputs = rules.make_inputs(np.random.default_rng(seed))
        counts = np.bincount(inputs["subset_labels"], minlength=10)
        large, small = inputs["budgets"]
        assert large % 10 == 0 and small % 10 == 0 and 0 < small < large
        assert np.all(counts - large // 10 >= 1) and np.all(counts - large // 10 <= 3)
        assert inputs["seeds"][0] != inputs["seeds"][1]


def test_the_conv_rule_judges_the_exported_outputs_against_the_models_own_weights(tmp_path):
    """Does the rule pass the exported encoder and refuse the same export once its outputs are scaled by 1.1?"""
    inputs = rules.make_inputs(np.random.default_rng(3))
    _, encoder, _ = models.conv_autoencoder((32, 16, 8))
    observed = rules.observe_conv_models({"encoder": encoder}, inputs)
    expected = {"filters": (32, 16, 8), "models": ("encoder",)}
    (tmp_path / "right").mkdir()
    assert judged(tmp_path / "right", rules.CONV_AUTOENCODER, observed, inputs, expected) == []
    observed["encoder.prediction"] = observed["encoder.prediction"] * np.float32(1.1)
    (tmp_path / "forged").mkdir()
    failures = judged(tmp_path / "forged", rules.CONV_AUTOENCODER, observed, inputs, expected)
    assert len(failures) == 1 and "outputs" in failures[0]


def test_the_cosine_of_the_rule_is_the_cosine_of_keras():
    """Does the rule's cosine schedule equal Keras's CosineDecay at every step it looks at?"""
    steps = np.array(rules._rate_steps(1130))
    schedule = keras.optimizers.schedules.CosineDecay(LEARNING_RATE, 1130)
    assert np.allclose(rules.cosine_rates(steps, LEARNING_RATE, 1130), [float(schedule(s)) for s in steps],
                       rtol=1e-5, atol=1e-10)


def test_the_head_rule_refuses_features_that_moved_in_training(tmp_path, quick):
    """Does the rule refuse an export in which a training step changed the frozen features' weights?"""
    inputs = rules.make_inputs(np.random.default_rng(4))
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    features = transfer.freeze(cut(encoder))
    observed = rules.observe_head({"frozen": classifier(features), "features": features}, inputs)
    expected = grading.expected("L4-head", grading.reference())
    (tmp_path / "right").mkdir()
    assert judged(tmp_path / "right", rules.HEAD, observed, inputs, expected) == []
    observed["frozen.moved"][observed["frozen.features_weights"][0]] = 1e-3
    (tmp_path / "moved").mkdir()
    failures = judged(tmp_path / "moved", rules.HEAD, observed, inputs, expected)
    assert failures and "features after training steps" in failures[0]


@pytest.mark.parametrize("exercise", rules.EXERCISES, ids=lambda exercise: exercise.grade_id)
def test_forged_or_malformed_data_is_a_problem_never_a_crash(tmp_path, exercise):
    """Do exported values of the wrong type or shape give a problem for the student, not an exception?"""
    inputs = rules.make_inputs(np.random.default_rng(0))
    observed = {f"{name}.model": "a model" for name in (*exercise.names, "features")}
    observed.update({"callable": "yes", "encoder.layers": 3, "fine_tuned.weights": -1, "frozen.weights": "many",
                     "call0": np.zeros((2, 2))})
    expected = grading.expected(exercise.grade_id, {"fashion_train_labels": np.zeros(90)})
    failures = judged(tmp_path, exercise, observed, inputs, expected)
    assert failures and all(isinstance(failure, str) for failure in failures)


def test_an_observer_records_what_a_wrong_object_is_instead_of_failing(tmp_path):
    """Does observing a string where models and functions are expected record what it is, for every exercise?"""
    inputs = rules.make_inputs(np.random.default_rng(0))
    for exercise in rules.EXERCISES:
        folder = tmp_path / exercise.grade_id
        folder.mkdir()
        observe_into(folder, exercise, dict.fromkeys(exercise.names, "a string"), inputs)
        failures = judge(exercise, Exported(folder), inputs, grading.expected(exercise.grade_id, grading.reference()))
        assert failures and "a str" in failures[0], (exercise.grade_id, failures)


def test_the_loss_rule_allows_keras_logits_where_the_softmax_saturated():
    """Where a probability of the right label is below Keras's clip (1e-7), Keras may compute the loss from the
    softmax's logits, beyond −log 1e-7: is the range it may take known, and exact where nothing saturated?"""
    labels = np.array([0, 1, 2, 3])
    probabilities = np.full((4, 10), 0.1)
    assert rules.sparse_crossentropy(labels, probabilities)[0] == pytest.approx(np.log(10))
    assert rules.sparse_crossentropy(labels, probabilities)[0] == rules.sparse_crossentropy(labels, probabilities)[1]
    probabilities[0] = np.r_[0.0, 1.0, np.zeros(8)]  # the right label 0 has probability 0: saturated
    low, high = rules.sparse_crossentropy(labels, probabilities)
    assert low == pytest.approx((-np.log(1e-7) + 3 * np.log(10)) / 4)
    assert high == pytest.approx((104 + 3 * np.log(10)) / 4)
