"""What the app lets one Reconstruct run ask for (cs_core/run_budget.py): a Gaussian matrix and its copies within
the memory budget, a planned time within the cap; every example fits; heavier settings are refused with the
field named. The served app's refusal is in tests/test_robustness.py."""
import pytest
import torch

from cs_core import run_budget
from cs_core.domains import DOMAINS, get_domain
from cs_core.errors import InputError
from cs_core.operators.gaussian import GaussianOperator
from cs_core.solvers import METHODS, Options, methods_for

MIB = 2 ** 20


def test_the_cost_table_prices_every_method_of_every_domain_at_two_m():
    table = run_budget._table()
    for domain in DOMAINS:
        row = table["domains"][domain]
        assert row["m"] == [run_budget.LOW_M, run_budget.max_gaussian_m(domain)]
        assert set(row["seconds"]) == set(methods_for(domain))
        assert all(len(t) == 2 and 0 < t[0] and 0 < t[1] for t in row["seconds"].values())


@pytest.mark.parametrize("methods", [(), ("csgm-dcgan",), ("lasso-dct",), ("lasso-dct", "lasso-wavelet"),
                                     ("posterior-dcgan",), ("lasso-pixel", "lasso-dct", "lasso-wavelet")])
def test_the_largest_m_is_the_largest_whose_matrix_and_copies_fit_the_budget(methods):
    n = get_domain("faces").n
    copies = 1 + sum(METHODS[name].matrix_copies for name in methods)
    m = run_budget.max_gaussian_m("faces", methods)
    assert 4 * m * n * copies <= run_budget.MATRIX_BUDGET_MIB * MIB < 4 * (m + 1) * n * copies
    assert run_budget.max_gaussian_m("mnist", methods) == get_domain("mnist").n  # 784 × 784 floats: 2.3 MiB


def test_a_lasso_design_is_one_copy_of_the_matrix_in_size():
    """What ``matrix_copies`` = 1 counts: the design AΨ a Lasso keeps is exactly as large as A."""
    from cs_core.bases import BASES
    op = GaussianOperator(get_domain("mnist").shape, 100, torch.Generator().manual_seed(0), torch.device("cpu"))
    design = op.design(BASES["dct"])
    assert design.numel() * design.element_size() == op.matrix.numel() * op.matrix.element_size()


def test_the_planned_seconds_scale_with_iterations_and_starts_and_grow_with_m():
    low = run_budget.method_seconds("csgm-dcgan", "faces", 100, Options())
    assert run_budget.method_seconds("csgm-dcgan", "faces", 100, Options(iterations=400)) == pytest.approx(2 * low)
    assert run_budget.method_seconds("csgm-dcgan", "faces", 100, Options(restarts=8)) == pytest.approx(2 * low)
    assert run_budget.method_seconds("csgm-dcgan", "faces", 100, Options(restarts=1)) == low  # not counted as saved
    assert run_budget.method_seconds("csgm-dcgan", "faces", None, Options()) == low  # not a matrix: the low m
    table = run_budget._table()["domains"]["faces"]
    (m0, m1), (t0, t1) = table["m"], table["seconds"]["lasso-dct"]
    mid = (m0 + m1) // 2
    middle = run_budget.method_seconds("lasso-dct", "faces", mid, Options())
    assert middle == pytest.approx(t0 + max(0.0, t1 - t0) * (mid - m0) / (m1 - m0))  # linear where it grew


def test_every_example_fits_the_budget_at_the_default_cap():
    from ui.reconstruct.form import check_numbers
    from ui.reconstruct.presets import presets
    for label, fields in presets():
        methods = [n for n in fields["methods"] if n in METHODS]
        options = Options(iterations=int(fields["iterations"]) if fields.get("iterations") else None,
                          restarts=int(fields["restarts"]) if fields.get("restarts") else None)
        m = fields.get("m") if fields.get("operator", "gaussian") == "gaussian" else None
        planned = run_budget.check_time(fields["domain"], m, methods, options, cap=120.0)
        assert planned <= run_budget.CAP_SHARE * 120, label
        check_numbers({**fields, "methods": methods})


def test_a_run_planned_over_the_cap_is_refused_naming_what_to_lower():
    heavy = Options(iterations=20_000)
    top = run_budget.largest("iterations", "faces", 1000, ["csgm-dcgan"], heavy, cap=120.0)
    assert 0 < top < 20_000
    with pytest.raises(InputError, match=rf"planned at about \d+ s .* lower iterations to at most {top}, or choose"):
        run_budget.check_time("faces", 1000, ["csgm-dcgan"], heavy, cap=120.0)
    assert run_budget.check_time("faces", 1000, ["csgm-dcgan"], Options(iterations=top), cap=120.0) \
        <= run_budget.CAP_SHARE * 120
    with pytest.raises(InputError):
        run_budget.check_time("faces", 1000, ["csgm-dcgan"], Options(iterations=top + 1), cap=120.0)
    with pytest.raises(InputError, match=r": choose fewer methods$"):
        run_budget.check_time("faces", 1000, methods_for("faces"), Options(), cap=120.0)


def test_the_form_refuses_an_m_beyond_the_memory_budget_and_says_why():
    from ui.reconstruct.form import check_numbers
    top = run_budget.max_gaussian_m("faces", ["lasso-dct", "csgm-dcgan"])
    check_numbers(dict(domain="faces", operator="gaussian", m=top, methods=["lasso-dct", "csgm-dcgan"]))
    with pytest.raises(InputError, match=rf"m must be a whole number from 1 to {top} \(the app keeps a faces "
                                         rf"Gaussian matrix, and the copy these methods make of it, within "
                                         rf"{run_budget.MATRIX_BUDGET_MIB} MiB\)"):
        check_numbers(dict(domain="faces", operator="gaussian", m=top + 1, methods=["lasso-dct", "csgm-dcgan"]))


def test_docs_state_the_largest_faces_m_as_the_budget_computes_it():
    from helpers import ROOT
    text = " ".join((ROOT / "docs" / "app.md").read_text().split())
    top = {methods: run_budget.max_gaussian_m("faces", methods) for methods in
           [(), ("lasso-dct",), ("lasso-dct", "lasso-wavelet"), ("lasso-pixel", "lasso-dct", "lasso-wavelet")]}
    assert (f"{run_budget.MATRIX_BUDGET_MIB} MiB / (4·n·(1 + copies)): for faces {top[()]} without copies, "
            f"{top[('lasso-dct',)]} with one Lasso basis, {top[('lasso-dct', 'lasso-wavelet')]} with two or with "
            f"posterior samples, {top[('lasso-pixel', 'lasso-dct', 'lasso-wavelet')]} with three") in text
    assert run_budget.max_gaussian_m("faces", ("posterior-dcgan",)) == top[("lasso-dct", "lasso-wavelet")]


def test_the_m_marks_offer_only_the_paper_values_the_memory_budget_allows():
    from cs_core.experiments.paper import PAPER_M
    from ui.reconstruct.callbacks import paper_ms
    assert paper_ms("mnist", ["lasso-dct", "csgm-vae"]) == list(PAPER_M["mnist"])
    for methods in ([], ["csgm-dcgan"], ["lasso-dct", "lasso-wavelet", "csgm-dcgan"], ["posterior-dcgan"]):
        offered = paper_ms("faces", methods)
        top = run_budget.max_gaussian_m("faces", methods)
        assert offered == [m for m in PAPER_M["faces"] if m <= top] and offered[-1] < top
    assert paper_ms("faces", ["lasso-dct", "lasso-wavelet", "csgm-dcgan"])[-1] == 1000


def test_a_domain_change_marks_m_for_the_methods_checked_that_fit_it():
    """An example sets the domain and its methods together: the marks follow them (names of the other domain,
    left checked until the switch checks the new domain's own, are not counted)."""
    from ui.reconstruct.callbacks import on_domain_change
    *_, marks = on_domain_change("faces", ["lasso-dct", "lasso-wavelet", "csgm-dcgan"], 500)
    assert max(marks["choices"]) == 1000 and marks["value"] == 500
    *_, marks = on_domain_change("faces", ["csgm-vae", "posterior-vae"], 100)
    assert max(marks["choices"]) == 2500
