import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SPEED = BENCHMARKS / "speed.py"
LAB3_RECIPE = BENCHMARKS / "lab3_recipe.py"


def test_speed_benchmark_times_one_lab_model_against_plain_fit():
    """Does `speed.py --only models --quick --lab 1` train both paths and print their epoch times and ratio?"""
    run = subprocess.run([sys.executable, str(SPEED), "--only", "models", "--quick", "--lab", "1"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    rows = [line for line in run.stdout.splitlines() if line.startswith("Lab ")]
    assert len(rows) == 1 and rows[0].startswith("Lab 1 dense autoencoder"), run.stdout
    labs, plain, ratio = map(float, re.search(
        r"labs' path +([\d.]+) s/epoch \| plain fit +([\d.]+) s/epoch \| ratio ([\d.]+)x", rows[0]).groups())
    half = 0.005  # the times and the ratio are printed to 2 decimals
    assert labs > half and plain > half, rows[0]
    assert (plain - half) / (labs + half) - half <= ratio <= (plain + half) / (labs - half) + half, rows[0]
    fastest = float(re.search(r"\(fastest epochs ([\d.]+)x\)", rows[0]).group(1))
    assert fastest > 0, rows[0]
    assert "5000 images" in rows[0] and "median of 2 epochs" in rows[0]
    peak = float(re.search(r"^float32 matrix-product peak: ([\d.]+) GFLOP/s$", run.stdout, re.M).group(1))
    share = re.search(r"([\d.]+) TFLOP an epoch: labs' path ([\d.]+) GFLOP/s, (\d+) % of the float32 peak",
                      run.stdout)
    assert peak > 0 and share, run.stdout
    tflop, achieved, percent = float(share.group(1)), float(share.group(2)), int(share.group(3))
    assert tflop == pytest.approx(6 * 2 * (784 * 128 + 128 * 32) * 5000 / 1e12, abs=0.005)
    assert achieved == pytest.approx(6 * 2 * (784 * 128 + 128 * 32) * 5000 / labs / 1e9, rel=0.05)
    assert abs(percent - 100 * achieved / peak) <= 1


def test_grading_benchmark_sizes_a_cluster_from_the_busier_worker():
    """Does the grading benchmark count a worker's seconds per submission from the slower of grading alone and
    beside another worker, and round the workers for a course up?"""
    spec = importlib.util.spec_from_file_location("grading_benchmark", BENCHMARKS / "grading.py")
    grading = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(grading)
    assert grading.worker_seconds(one=60.0, two=40.0, submissions=6) == pytest.approx(80 / 6)
    assert grading.worker_seconds(one=60.0, two=25.0, submissions=6) == pytest.approx(10.0)
    assert grading.workers_needed(1200, 12.8, minutes=60) == 5
    assert grading.workers_needed(300, 12.0, minutes=60) == 1


def test_lab3_recipe_benchmark_judges_a_candidate_on_the_validation_split(full_data_dir):
    """Does `lab3_recipe.py` train a candidate on the training images, judge it on the last 10,000 of them (never
    the test set), and print its validation BCE against the report's figure, its multiply-adds and its times?"""
    from labkit import models

    run = subprocess.run([sys.executable, str(LAB3_RECIPE), "--dense", "256", "--batch", "256", "--epochs", "1",
                          "--images", "2000"], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "LABKIT_DATA_DIR": str(full_data_dir)})
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "code of 2: training on 2,000 images, validation BCE on the last 10,000" in run.stdout, run.stdout
    found = re.search(r"^lean decoder, 256, batch 256, 1 epochs, rate 0.003: validation BCE ([\d.]+) \((meets|misses) 0.1669\); "
                      r"([\d.]+) M multiply-adds per image; ([\d.]+) s per epoch", run.stdout, re.M)
    assert found, run.stdout
    bce, verdict, million, seconds = float(found[1]), found[2], float(found[3]), float(found[4])
    assert 0 < bce < 1 and verdict == ("meets" if bce <= 0.1669 else "misses") and seconds > 0
    autoencoder, _, _ = models.conv_bottleneck_autoencoder(latent=2, dense=(256,), full_resolution=False)
    assert million == round(models.multiply_adds(autoencoder) / 1e6, 1)


def _speed_module():
    spec = importlib.util.spec_from_file_location("speed_benchmark", SPEED)
    speed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(speed)
    return speed


def test_speed_benchmark_times_models_side_by_side_against_one_after_another(capsys, monkeypatch):
    """Does a side-by-side entry train its models joined on the labs' path and one after another in plain Keras,
    with the arithmetic of all of them, and does Lab 3 declare its sweep so, one model per code size?"""
    from labkit import models
    from labkit.labs.lab3 import LATENT_SIZES

    monkeypatch.setenv("LABKIT_QUICK", "1")  # the shipped sample, without trying to download MNIST first
    speed = _speed_module()

    def pair():
        built = []
        for latent in (8, 16):
            model = models.dense_autoencoder(latent=latent, name=f"dense_{latent}")[0]
            model.compile(optimizer="adam", loss="binary_crossentropy")
            built.append(model)
        return built

    rows = speed.time_epochs(images=512, epochs=1, entries=[(1, "Lab 1 pair side by side", pair, "flat", 128)])
    printed = capsys.readouterr().out
    assert [name for name, _, _ in rows] == ["Lab 1 pair side by side"]
    assert "(2 models side by side vs one after another, float32 vs float32, 512 images" in printed, printed
    achieved = float(re.search(r"TFLOP an epoch: labs' path ([\d.]+) GFLOP/s", printed).group(1))
    arithmetic = sum(3 * 2 * (784 * 128 + 128 * latent + latent * 128 + 128 * 784) * 512 for latent in (8, 16))
    assert achieved == pytest.approx(arithmetic / rows[0][1] / 1e9, abs=0.06), printed  # both models' arithmetic

    sweeps = [entry for entry in speed.lab_models() if entry[0] == 3 and "side by side" in entry[1]]
    assert len(sweeps) == 1, speed.lab_models()
    built = sweeps[0][2]()
    assert [model.get_layer("encoder").output_shape[-1] for model in built] == LATENT_SIZES
    assert all(model.optimizer is not None for model in built)


def test_layer_benchmark_times_each_layer_in_both_precisions():
    """Does `layers.py --lab 1` time every layer of the lab's model in both precisions, with the ratio of each,
    of their sums and of a whole training step?"""
    run = subprocess.run([sys.executable, str(BENCHMARKS / "layers.py"), "--lab", "1", "--batch", "32",
                          "--repeats", "2"], capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    rows = re.findall(r"^(\w+) +(\w+) +([\d.]+) \| (\w+) +([\d.]+) \| ratio ([\d.]+)x$", run.stdout, re.MULTILINE)
    assert [row[0] for row in rows] == ["enc_dense", "code", "dec_dense", "reconstruction"], run.stdout
    assert all(row[1] == row[3] == "float32" for row in rows)  # Lab 1's dense model computes in float32 in both
    total = re.search(r"^sum +([\d.]+) \| +([\d.]+) \| ratio ([\d.]+)x$", run.stdout, re.MULTILINE)
    assert total, run.stdout
    for column, found in ((2, total[1]), (4, total[2])):
        assert float(found) == pytest.approx(sum(float(row[column]) for row in rows), abs=0.03)
    whole = re.search(r"^whole step +([\d.]+) \| +([\d.]+) \| ratio ([\d.]+)x$", run.stdout, re.MULTILINE)
    assert whole and float(whole[1]) > 0 and float(whole[2]) > 0, run.stdout
    assert float(whole[3]) == pytest.approx(float(whole[1]) / float(whole[2]), rel=0.05)


def test_layer_benchmark_times_the_layers_without_weights_too():
    """Are Lab 4's pooling and upsampling layers timed beside its convolutions, each in the dtype it computes in
    (the code and the output in float32, as the kit builds them)?"""
    run = subprocess.run([sys.executable, str(BENCHMARKS / "layers.py"), "--lab", "4", "--batch", "4",
                          "--repeats", "1"], capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    rows = re.findall(r"^(\w+) +(\w+) +[\d.]+ \| (\w+) +[\d.]+ \| ratio [\d.]+x$", run.stdout, re.MULTILINE)
    assert [row[0] for row in rows] == ["enc_conv1", "enc_pool1", "enc_conv2", "enc_pool2", "code", "dec_up1",
                                        "dec_conv1", "dec_up2", "dec_conv2", "reconstruction"], run.stdout
    assert {name: bf16 for name, _, bf16 in rows if bf16 == "float32"}.keys() == {"code", "reconstruction"}
    assert all(f32 == "float32" for _, f32, _ in rows), run.stdout


def test_layer_benchmark_says_which_labs_declare_no_model():
    run = subprocess.run([sys.executable, str(BENCHMARKS / "layers.py"), "--lab", "5"], capture_output=True,
                         text=True, timeout=600, check=False)
    assert run.returncode == 2 and "Lab 5 declares no BENCHMARK model" in run.stderr, run.stderr[-2000:]
