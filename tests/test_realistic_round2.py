"""Real students' code, round two (issue 21, items 1-4 and 8): the definition that answers the task
is graded and named, an attribute under another name costs only the names test, one wrong layer
costs its own test, a signature is checked before the call, and every decision grace made is
listed for a TA with the overrides.csv lines that reverse it."""

import csv
import io

import pytest
import torch
from torch import nn

from conftest import EXAMPLES
from grader import probing
from grader.course.overrides import read_overrides
from grader.model import Decision
from grader.report.feedback import definitions_graded, student_feedback
from grader.report.gradebook import decisions_to_review
from grader.report.html import write_extras

OPTIONS = {"timeout": 10}
TWO_NETS = "Net is defined twice (lines 10 and 88); graded the one at line 10"

# assignment, example folder, student: (score, status, words in the row's message or test messages)
EXPECTED = {
    # item 1: the blitz Net at line 10 and the CIFAR tutorial's at line 88 (3 channels); then a
    # notebook's first Net and its 28 x 28 retry (padding=2, 576 features for fc1)
    ("lenet", "realistic_lenet", "scratch_two_nets"): (10, "graded", ["import torchvision"]),
    ("lenet", "realistic_lenet", "two_tries_cells"): (10, "graded", ["all tests passed"]),
    # item 2: a correct Linearmodule beside SiLU(nn.Module): graded, named, the other said
    ("custom_layer", "realistic_custom_layer", "linearmodule_and_silu"): (9, "graded", [
        "graded your `Linearmodule` as `MyLinear` (chosen by fit; the other candidates: SiLU: "]),
    # item 2: no class fits: which ones were seen, and why each does not fit
    ("custom_layer", "realistic_custom_layer", "no_fitting_class"): (0, "graded", [
        "your code does not define MyLinear; none of your classes fits the task (MyDense: "
        "MyDense(3, 2) failed: MyDense.__init__() takes 2 positional arguments but 3 were given",
        "CenteredLayer: CenteredLayer(3, 2) failed"]),
    # item 2: correct SigmoidFunction and LinearFunction: grace by kind and fit, 1-point names test
    ("autograd_function", "realistic_autograd_function", "function_names"): (9, "graded", [
        "graded your `SigmoidFunction` as `MySigmoid` (chosen by fit; the other candidates: "
        "LinearFunction: TypeError: LinearFunction.forward() missing 1 required positional "
        "argument: 'weight')"]),
    # item 2: a Dataset beside the tutorial's RandomDataset: the one that takes (text, labels)
    ("custom_dataset", "realistic_custom_dataset", "two_datasets"): (9, "graded", [
        "graded your `TextDataset` as `CustomDataset` (chosen by fit; the other candidates: "
        "RandomDataset: RandomDataset(['a', 'b'], [0, 1]) failed"]),
    # item 3: self.weight and self.bias for w and b: only the names test fails
    ("logistic_regression", "realistic_logistic_regression", "weight_bias"): (9, "graded", [
        "graded LR's self.weight as self.w, self.bias as self.b"]),
    # item 3: no w at all (a stacked theta): said as missing, never as NoneType
    ("logistic_regression", "realistic_logistic_regression", "theta_vector"): (2, "graded", [
        "LR(5) has no attribute w (and no one tensor of shape (5, 1) to grade in its place): set "
        "self.w = torch.zeros(dim, 1) in __init__"]),
    # item 3: the CIFAR conv1 costs the conv1 test and the tests that need the whole net
    ("lenet", "realistic_lenet", "cifar_conv1"): (5, "graded", [
        "conv1 is nn.Conv2d(3, 6, kernel_size=(5, 5)); LeNet's conv1 is nn.Conv2d(1, 6, "
        "kernel_size=(5, 5)) (in_channels differs): the blitz's images have 1 channel"]),
    # item 4: the student's signature, never "the check's own code raised"
    ("training_loop", "realistic_training_loop", "loader_train"): (4, "graded", [
        "your train takes (model, loader, criterion, optimizer, epochs, device); the task asks for "
        "(model, inputs, labels, criterion, optimizer, epochs)"]),
    ("training_loop", "realistic_training_loop", "marimo_train"): (4, "graded", [
        "your train takes (); the task asks for (model, inputs, labels, criterion, optimizer, "
        "epochs): it takes 0 arguments, the task passes 6"]),
}


@pytest.fixture(scope="module")
def graded(grade):
    return lambda assignment, folder: grade(assignment, EXAMPLES / folder, **OPTIONS)


@pytest.mark.parametrize("case", sorted(EXPECTED), ids=lambda case: case[2])
def test_realistic_round2_scores(graded, case):
    assignment, folder, student = case
    result = graded(assignment, folder)
    result.assert_row(student, EXPECTED[case])
    assert "the check's own code raised" not in result.messages(student)
    assert "NoneType" not in result.messages(student)


def failed_tests(result, student):
    rows = result.results[result.results.student == student]
    return set(rows[rows.status == "failed"].test)


def test_one_wrong_layer_costs_its_test_and_the_whole_net_tests_only(graded):
    assert failed_tests(graded("lenet", "realistic_lenet"), "cifar_conv1") == {
        "test_conv1", "test_forward_values", "test_layer_steps", "test_gradients"}


@pytest.mark.parametrize(("assignment", "folder", "student"), [
    ("logistic_regression", "realistic_logistic_regression", "weight_bias"),
    ("custom_layer", "realistic_custom_layer", "weight_singular"),
    ("custom_layer", "realistic_custom_layer", "linearmodule_and_silu"),
    ("autograd_function", "realistic_autograd_function", "function_names"),
    ("custom_dataset", "realistic_custom_dataset", "two_datasets"),
])
def test_another_name_costs_only_the_names_test(graded, assignment, folder, student):
    assert failed_tests(graded(assignment, folder), student) == {"test_names_as_asked"}


def decisions_of(result, student):
    return {(d["kind"], d["text"]) for o in result.batch.outcomes if o.student == student
            for d in o.decisions}


@pytest.mark.parametrize("student", ["scratch_two_nets", "two_tries_cells"])
def test_the_graded_definition_is_said_in_the_feedback(graded, student):
    result = graded("lenet", "realistic_lenet")
    said = definitions_graded(result.batch, student)
    expected = TWO_NETS if student == "scratch_two_nets" else (
        "Net is defined twice (cells 2 and 4); graded the one in cell 2")
    assert len(said) == 1 and said[0].startswith(expected)
    run = next(r for r in result.batch.runs if r.submission.student == student)
    rows = result.results[result.results.student == student]
    feedback = student_feedback("LeNet", run, result.row(student).to_frame().T.assign(student=student)
                                .iloc[0], rows, said)
    assert feedback.notes[0].startswith(expected)


def test_a_single_definition_decides_nothing(graded):
    result = graded("lenet", "realistic_lenet")
    assert decisions_of(result, "old_api") == set()
    assert definitions_graded(result.batch, "old_api") == []


def test_decisions_are_listed_for_review_with_lines_that_reverse_them(graded, tmp_path):
    rows = [row for folder, assignment in (("realistic_lenet", "lenet"),
                                           ("realistic_custom_layer", "custom_layer"),
                                           ("realistic_training_loop", "training_loop"))
            for row in decisions_to_review(graded(assignment, folder).batch)]
    by_student = {}
    for row in rows:
        by_student.setdefault(str(row["student"]), []).append(row)
    two_nets = next(r for r in by_student["scratch_two_nets"] if r["kind"] == "definition")
    assert str(two_nets["decision"]).startswith(TWO_NETS)
    assert "scratch_two_nets,test_conv1,0," in "\n".join(two_nets["lines"])
    grace = next(r for r in by_student["linearmodule_and_silu"] if r["kind"] == "name")
    assert "graded Linearmodule as MyLinear" in str(grace["decision"])
    assert any(line.startswith("linearmodule_and_silu,test_forward_values,0,") for line in grace["lines"])
    signature = next(r for r in by_student["loader_train"] if r["kind"] == "signature")
    assert any(line.startswith("loader_train,test_train_sgd,3,") for line in signature["lines"])
    # the lines paste into overrides.csv as they are
    path = tmp_path / "overrides.csv"
    lines = [line for row in rows for line in row["lines"]]
    path.write_text("student,test,points,reason,who\n" + "\n".join(lines) + "\n", encoding="utf-8")
    overrides = read_overrides(path)
    assert len(overrides) == len(lines)
    assert {(o.student, o.test, o.value) for o in overrides} >= {
        ("scratch_two_nets", "test_conv1", 0.0), ("loader_train", "test_train_sgd", 3.0)}


def test_report_html_lists_the_decisions_to_review(graded, tmp_path):
    result = graded("custom_layer", "realistic_custom_layer")
    write_extras(result.batch, tmp_path, result.scores, result.results, feedback=False)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'id="decisions">Decisions to review' in page
    assert "graded Linearmodule as MyLinear" in page
    assert "linearmodule_and_silu,test_forward_values,0," in page


def test_a_decision_s_override_line_is_csv():
    decision = Decision("name", 'graded "A, B" as MyLinear')
    row = next(csv.reader(io.StringIO(decision.override_line("al,ice", "test_x", 2))))
    assert row == ["al,ice", "test_x", "0", "reverses: graded 'A, B' as MyLinear", "TA"]
    assert Decision("error", "x").override_line("bob", "test_y", 2).split(",")[2] == "2"
    assert Decision.of_value({"kind": "rm -rf", "text": "x"}) is None


# --- the helpers, in this process ---------------------------------------------------------------


@pytest.fixture(autouse=True)
def fresh_decisions():
    probing.reset_decisions()
    yield
    probing.reset_decisions()


@pytest.mark.parametrize(("signature", "problem"), [
    ("def train(model, inputs, labels, criterion, optimizer, epochs): pass", ""),
    ("def train(net, x, y, loss_fn, opt, n_epochs, verbose=False): pass", ""),  # renamed, a default
    ("def train(*args, **kwargs): pass", ""),
    ("def train(model, loader, criterion, optimizer, epochs, device): pass",
     "criterion, optimizer, epochs are not where the task puts them"),
    ("def train(model, inputs, labels, criterion, optimizer): pass",
     "it takes 5 arguments, the task passes 6"),
    ("def train(model, inputs, labels, criterion, optimizer, epochs, device): pass",
     "it needs 7 arguments, the task passes 6"),
    ("def train(model, inputs, labels, criterion, optimizer, epochs, *, device): pass",
     "device must be given by keyword"),
])
def test_signatures_are_checked_before_calling(signature, problem):
    ns: dict = {}
    exec(signature, ns)  # noqa: S102 - a test's own code
    asked = ("model", "inputs", "labels", "criterion", "optimizer", "epochs")
    if not problem:
        probing.check_signature(ns["train"], asked)
        return
    with pytest.raises(probing.ProbeFailure) as raised:
        probing.check_signature(ns["train"], asked)
    assert str(raised.value).startswith("your train takes (")
    assert str(raised.value).endswith(problem)
    assert [d["kind"] for d in probing.decisions_made()] == ["signature"]


def student_namespace(source: str) -> dict:
    ns = {"__name__": "submission", "nn": nn, "torch": torch}
    exec(compile(source, "student.py", "exec"), ns)  # noqa: S102 - a test's own code
    return ns


TWO_LAYERS = """
class Scale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor
    def forward(self, x):
        return x * self.factor

class Dense(nn.Module):
    def __init__(self, n_in, n_out, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.rand(n_in, n_out))
    def forward(self, x):
        return x @ self.weights
"""


def test_grace_picks_the_candidate_that_fits_and_keeps_the_random_state():
    ns = student_namespace(TWO_LAYERS)
    fit = probing.fits_module(3, 2, input=torch.ones(4, 3), shape=(4, 2))
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    assert probing.defined(ns, "MyLinear", like=nn.Module, fit=fit) is ns["Dense"]
    assert torch.equal(torch.rand(3), expected)  # trying candidates drew no random numbers
    used = probing.names_used(ns, ["MyLinear"])
    assert used["MyLinear"]["used"] == "Dense" and used["MyLinear"]["graced"]
    assert "Scale:" in used["MyLinear"]["note"]
    assert [d["kind"] for d in probing.decisions_probe(ns, "cpu")] == ["name"]


def test_without_a_fit_two_candidates_are_not_guessed():
    ns = student_namespace(TWO_LAYERS)
    with pytest.raises(probing.ProbeFailure, match="does not define MyLinear"):
        probing.defined(ns, "MyLinear", like=nn.Module)


def test_grace_off_grades_no_other_candidate():
    ns = student_namespace(TWO_LAYERS)
    fit = probing.fits_module(3, 2, input=torch.ones(4, 3), shape=(4, 2))
    probing.NAMES_SETTINGS["grace"] = False
    try:
        with pytest.raises(probing.ProbeFailure):
            probing.defined(ns, "MyLinear", like=nn.Module, fit=fit)
    finally:
        probing.NAMES_SETTINGS["grace"] = True


# --- the judge: decisions travel as data ---------------------------------------------------------

ASSIGNMENT_TESTS = '''
from grader.api import points, probe


@probe
def values(ns, device):
    return {"out": 1}


@probe
def names(ns, device):
    return {}


@points(2)
def test_values(observe):
    got, want = observe(values)
    assert got == want


@points(1)
def test_names(observe):
    observe(names)
'''


class FakeObservations:
    """What the sandboxes sent: ``alice``'s values probe raised in the check's own code (blamed on
    her), ``bob``'s decisions probe lists a graced name made in the values probe."""

    def reference(self, probe):
        return {"out": 1} if probe == "values" else {}

    def student(self, student, probe):
        from grader.judge.plugin import NoObservation

        if probe == probing.DECISIONS_PROBE:
            if student == "bob":
                return [{"kind": "name", "text": "graded Lin\nLayer as MyLinear", "probes": ["values"]},
                        {"kind": "forged", "text": "x", "probes": ["values"]}]
            return []
        if student == "alice" and probe == "values":
            raise NoObservation("the check's own code raised KeyError", "", "values: KeyError")
        return self.reference(probe)


def test_the_judge_attaches_decisions_to_the_tests_that_relied_on_them(tmp_path):
    from grader.judge.plugin import judge

    test_file = tmp_path / "test_fake.py"
    test_file.write_text(ASSIGNMENT_TESTS, encoding="utf-8")
    outcomes = {(o.student, o.test): o for o in judge((test_file,), FakeObservations(), ["alice", "bob"])}
    assert outcomes["alice", "test_values"].decisions == [{"kind": "error", "text": "values: KeyError"}]
    assert outcomes["alice", "test_names"].decisions == []
    assert outcomes["bob", "test_values"].decisions == [
        {"kind": "name", "text": "graded Lin Layer as MyLinear"}]  # one line; the forged kind dropped
    assert outcomes["bob", "test_names"].decisions == []
    alice = Decision.of_value(outcomes["alice", "test_values"].decisions[0])
    assert alice.override_line("alice", "test_values", 2).startswith("alice,test_values,2,")


def test_reset_forgets_what_grace_decided_for_an_earlier_check():
    ns = student_namespace(TWO_LAYERS)
    fit = probing.fits_module(3, 2, input=torch.ones(4, 3), shape=(4, 2))
    probing.defined(ns, "MyLinear", like=nn.Module, fit=fit)
    ns["MyLinear"] = ns.pop("Dense")  # the student renamed it and checks again, same kernel
    probing.reset_decisions()
    assert probing.names_used(ns, ["MyLinear"]) == {"MyLinear": {"used": "MyLinear", "graced": False}}
    assert probing.decisions_made() == []
