"""The CUDA path: probes on the GPU, compared with documented looser tolerances. Skipped cleanly
where no GPU is visible (CI and the 2-core development machines)."""

import pytest
import torch

from conftest import EXAMPLES, grade_folder
from grader.judge.compare import tolerance_for

needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")


def test_gpu_tolerances_are_looser_and_documented():
    cpu_rtol, cpu_atol, _ = tolerance_for(torch.float32, "cpu")
    gpu_rtol, gpu_atol, origin = tolerance_for(torch.float32, "cuda:0")
    assert gpu_rtol > cpu_rtol and gpu_atol > cpu_atol and "GPU" in origin


@needs_gpu
def test_custom_layer_grades_the_same_on_the_gpu():
    cpu = grade_folder("custom_layer", EXAMPLES / "custom_layer", timeout=6, memory=512 * 1024**2)
    gpu = grade_folder("custom_layer", EXAMPLES / "custom_layer", timeout=20, device="cuda")
    for student in ("alice", "bob", "carol", "dave", "erin", "rupert", "trent"):
        assert gpu.row(student).score == cpu.row(student).score, student
