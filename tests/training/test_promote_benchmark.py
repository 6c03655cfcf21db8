"""benchmarks/promote.py, one small seed: the gate's verdict checked against the simulator."""

from benchmarks.promote import run_seed


def test_a_promotion_is_never_worth_less_than_the_model_it_replaces(tmp_path):
    """200 simulated incidents through `remedy simulate`, then `remedy train
    --promote-if-better`; whatever the gate decides, a promoted model is truly worth at least
    the current one (benchmarks/README.md has 3 seeds x 3,000 outcomes)."""
    result = run_seed(4, incidents=200, truth=100, work=tmp_path, exploration_rate="0.5")
    assert result.verdict.startswith(("promoted", "not promoted")), result.verdict
    assert result.current == "sim-4" and result.holdout == 40
    assert result.true_current > 0 and result.true_candidate > 0
    assert result.honest
