"""Review findings (studies17): the studies' texts with --seeds 1."""

from trainlab.studies import optimizers as opt


def test_optimizers_setup_text_one_seed_says_one_model_per_method():
    # `trainlab study optimizers --quick --seeds 1` prints "1 models per method" in its set-up
    # (the L-BFGS line); with one seed it should read "1 model per method", as the MLP line
    # already says "1 seed per LR".
    optims = {o: (opt.OPTIMIZERS[o][0], g) for o, g in opt.QUICK_OPTIMIZERS.items()}
    plan = {"MLP": list(opt.QUICK_OPTIMIZERS)}
    text = opt._setup_text(True, plan, optims, 1, 8, [4, 6], [0.1, 0.3], 60, [])
    assert "1 seed per LR" in text
    assert "1 models" not in text
    assert "1 model per method" in text


def test_one_seed_captions_claim_no_spread_and_no_band():
    # with --seeds 1 the optimizers/clipping/activations figures said "mean ± std over seeds" and
    # "band: ±1 std over seeds" above a single line with no band
    from trainlab.studies import band_text, spread_text

    assert spread_text(1) == "one seed" and "std" not in band_text(1)
    assert spread_text(3) == "mean ± std over seeds"
    assert band_text(3) == "band: ±1 std over seeds, within their range"
