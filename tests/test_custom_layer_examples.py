"""The custom_layer example class: every student's exact score, status and key words."""

import pytest

from conftest import EXAMPLES

FOLDER = EXAMPLES / "custom_layer"

# Since issue 12: test_names_as_asked (1 point) is new and test_gradients is worth 1, not 2, so
# every student who named the class MyLinear but failed something gained a point; frank's
# nn.Linear layout now costs only the layout test.
EXPECTED = {
    # student: (score, status, words that must appear in the row's message or test messages)
    "alice": (10, "graded", ["all tests passed"]),
    "bob": (10, "graded", ["all tests passed"]),
    "carol": (10, "graded", ["all tests passed"]),
    "dave": (4, "graded", ["no forward method", "forwrad"]),
    "erin": (4, "graded", ["no parameters", "nn.Parameter"]),
    "frank": (8, "graded", ["(3, 4)", "nn.Linear's (out_features, in_features) layout", "transposed"]),
    "grace": (0, "error", ["does not compile", "SyntaxError", "line 21"]),
    "heidi": (4, "graded", ["NotImplementedError", "cell 3", "line 13 of cell 2"]),
    "ivan": (0, "error", ["not a notebook"]),
    "judy": (10, "graded", ["FileNotFoundError", "data.csv"]),
    "mallory": (5, "graded", ["every value is zero"]),
    "niaj": (0, "killed", ["exit code 3"]),
    "olivia": (10, "timeout", ["stopped at line 24 `while True:` at the time limit", "endless loop"]),
    "rupert": (6, "graded", ["bias"]),
    "sybil": (4, "graded", ["sys.exit"]),
    "trent": (9, "graded", ["bias.grad is None"]),
}


@pytest.fixture(scope="module")
def graded(grade):
    return grade("custom_layer", FOLDER, timeout=6, memory=512 * 1024**2)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_example_scores(graded, student):
    graded.assert_row(student, EXPECTED[student])


def test_memory_hog_costs_only_its_own_time(graded):
    row = graded.row("peggy")
    assert row.score == 10
    assert row.status in {"graded", "timeout"}
    assert "memory" in row.message or "too long" in row.message


def test_every_student_has_a_row(graded):
    names = {p.stem for p in FOLDER.iterdir() if p.suffix in {".py", ".ipynb"} or p.is_dir()}
    assert set(graded.scores.index) == names
    assert (graded.scores.max_score == 10).all()


def test_hidden_results_never_show_expected_values(graded):
    hidden = graded.results[(graded.results.visibility == "hidden")
                            & (graded.results.status == "failed")]
    assert not hidden.empty
    assert not hidden.message.str.contains("expected -?[0-9]", regex=True).any()


def test_time_limit_never_says_soft_timeout(graded):
    assert "SoftTimeout" not in graded.row("olivia").message
