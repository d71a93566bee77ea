"""pyapi19 review: public Python API, bad arguments and documented types (each test fails today)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

from trainlab.errors import UserError


def _records() -> list[dict]:
    from trainlab.diagnostics import watch

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    with watch(model, every=1) as w:
        for _ in range(3):
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return w.records()


def _user_error_or_ok(fn):
    """Run ``fn``; an error is acceptable only as a UserError (one clear line)."""
    try:
        return fn()
    except UserError:
        return None


def test_verdict_given_a_jsonl_path_is_a_user_error(tmp_path):
    # verdict("…/diagnostics.jsonl") (its docstring names that file) dies with AttributeError
    # 'str' object has no attribute 'get' in report/jsonl.py; it should be one UserError
    # pointing at the records (or read the file).
    from trainlab.diagnostics import verdict, write_jsonl

    path = write_jsonl(_records(), tmp_path / "diagnostics.jsonl")
    _user_error_or_ok(lambda: verdict(str(path)))


def test_verdict_thresholds_given_as_a_dict_is_not_an_attribute_error():
    # verdict(records, thresholds={"dead": 0.5}) raises AttributeError deep in verdict.py;
    # it should take the dict or refuse it with a UserError naming Thresholds(...).
    from trainlab.diagnostics import verdict

    recs = _records()
    _user_error_or_ok(lambda: verdict(recs, thresholds={"dead": 0.5}))


def test_thresholds_with_a_non_number_is_a_user_error():
    # Thresholds(dead="a") is accepted and verdict() then fails with a TypeError on '<'
    # deep inside; a threshold that is not a number should be a UserError.
    from trainlab.diagnostics import Thresholds, verdict

    recs = _records()
    with pytest.raises(UserError):
        verdict(recs, thresholds=Thresholds(dead="a"))


@pytest.mark.parametrize("p", [2.0, -0.5])
def test_seeded_dropout_refuses_a_probability_outside_0_1(p):
    # SeededDropout(2.0, 0) zeroes every output and p=-0.5 scales inputs by 1/1.5 silently
    # (torch.nn.Dropout and Population.set_dropout_p refuse both); it should raise a UserError.
    from trainlab.population import SeededDropout

    with pytest.raises(UserError):
        SeededDropout(p, 0, k=2)


def test_init_tensor_of_a_1d_tensor_is_a_user_error():
    # init_tensor(torch.zeros(3), "xavier_normal") surfaces torch's ValueError from inside
    # torch.nn.init; init.fans gives a UserError for the same tensor, init_tensor should too.
    from trainlab.init import init_tensor

    with pytest.raises(UserError):
        init_tensor(torch.zeros(3), "xavier_normal")


def test_init_tensor_of_a_non_tensor_is_a_user_error():
    # init_tensor([[0.0, 0.0]], "normal") dies with AttributeError 'list' has no 'copy_';
    # it should be a UserError naming the tensor it needs.
    from trainlab.init import init_tensor

    with pytest.raises(UserError):
        init_tensor([[0.0, 0.0], [0.0, 0.0]], "normal")


def test_create_schedule_refuses_a_negative_base_lr():
    # create_schedule("cosine", -0.1, ...) returns a schedule of negative rates (gradient
    # ascent) while create_optimizer refuses lr=-0.1; it should be a UserError.
    from trainlab.optim import create_schedule

    with pytest.raises(UserError):
        create_schedule("cosine", -0.1, total_steps=10, steps_per_epoch=2)


def test_create_schedule_base_lr_text_is_a_user_error():
    # create_schedule("cosine", "a", ...) raises ValueError from float('a') (schedules.py);
    # it should be a UserError like create_optimizer's "lr must be a number, got 'a'".
    from trainlab.optim import create_schedule

    with pytest.raises(UserError):
        create_schedule("cosine", "a", total_steps=10, steps_per_epoch=2)


def test_basic_block_dims_3_is_not_silently_2d():
    # BasicBlock(3, 4, dims=3) builds Conv2d layers (any dims but 1 is 2-D); it should build a
    # 3-D block or refuse dims outside {1, 2} with a UserError.
    from trainlab.models import BasicBlock

    block = _user_error_or_ok(lambda: BasicBlock(3, 4, dims=3))
    if block is not None:
        assert isinstance(block.conv1, nn.Conv3d)


def test_load_config_with_one_set_string_does_not_split_it_into_characters():
    # load_config(None, "optim.lr=0.1") iterates the string and complains about "--set 'o'";
    # one string should be taken as one --set (or refused as "sets must be a list").
    from trainlab.config import load_config

    try:
        cfg = load_config(None, "optim.lr=0.1")
    except UserError as e:
        assert "'o'" not in str(e), str(e)
    else:
        assert cfg.optim.lr == 0.1


def test_load_config_set_item_that_is_not_text_is_a_user_error():
    # load_config(None, [3]) dies with AttributeError 'int' has no 'partition' (config.py);
    # it should be a UserError asking for key=value.
    from trainlab.config import load_config

    with pytest.raises(UserError):
        load_config(None, [3])


def test_log_likelihood_takes_the_ais_result():
    # log_likelihood(rbm, X, ais_log_partition(rbm)) raises TypeError (float - AISResult);
    # it should use the result's log_z (or refuse it with a UserError naming .log_z).
    from trainlab.pretrain import BernoulliRBM, ais_log_partition, log_likelihood

    rng = np.random.default_rng(0)
    x = (rng.random((20, 4)) > 0.5).astype(float)
    rbm = BernoulliRBM(3, n_iter=1, random_state=0).fit(x)
    res = ais_log_partition(rbm, n_betas=20, n_runs=4, random_state=0)
    ll = _user_error_or_ok(lambda: log_likelihood(rbm, x, res))
    if ll is not None:
        np.testing.assert_allclose(ll, log_likelihood(rbm, x, res.log_z))


def test_build_report_of_none_is_a_user_error():
    # trainlab.build_report(None) raises pathlib's TypeError, while load_run(None) and
    # resume(None) say "run_dir must be a folder path"; build_report should too.
    import trainlab

    with pytest.raises(UserError):
        trainlab.build_report(None)


def test_split_indices_seed_text_is_a_user_error():
    # split_indices(y, 0.2, seed="a") raises ValueError from int('a'); data.load(seed="a")
    # says "seed must be an integer >= 0", and split_indices should say the same.
    from trainlab.data import split_indices

    with pytest.raises(UserError):
        split_indices(np.arange(10) % 2, 0.2, "a")


def test_to_jsonable_converts_numpy_arrays():
    # to_jsonable(np.array([1.0, nan])) raises ValueError ("can only convert an array of size
    # 1"), though a tensor gives [1.0, None]; an array should become a list, NaN as None.
    from trainlab.runs import to_jsonable

    assert to_jsonable(np.array([1.0, np.nan])) == [1.0, None]
    assert to_jsonable({"a": np.array([[1, 2], [3, 4]])}) == {"a": [[1, 2], [3, 4]]}


def test_write_jsonl_with_a_bad_record_leaves_the_existing_file_as_it_was(tmp_path):
    # write_jsonl([1], path) crashed after opening path for writing: the file a user had was
    # truncated to nothing; every line is encoded first, and a bad record is one UserError
    from trainlab.diagnostics.watch import write_jsonl

    path = write_jsonl(_records(), tmp_path / "d.jsonl")
    before = path.read_bytes()
    with pytest.raises(UserError):
        write_jsonl([1], path)
    assert path.read_bytes() == before and before


@pytest.mark.parametrize("norm_type", [0, -1.0, "2"])
def test_grad_norms_refuses_a_norm_type_clip_grad_norm_refuses(norm_type):
    # grad_norms(norm_type=0) counted nonzero entries and -1 gave a harmonic-like norm, where
    # torch's clip_grad_norm_ refuses them; one clear error instead
    from trainlab.optim.clip import grad_norms

    p = torch.randn(3, 4, requires_grad=True)
    p.grad = torch.randn(3, 4)
    with pytest.raises(UserError):
        grad_norms([p], k=3, norm_type=norm_type)


@pytest.mark.parametrize("cls", ["MLP", "ConvNet", "ResNet"])
def test_a_model_class_built_directly_checks_its_shape_as_create_does(cls):
    # MLP(64, 10) raised "TypeError: 'int' object is not iterable" while
    # create("mlp", input_shape=64, ...) takes a bare int; a class built directly takes what
    # create takes, and refuses a string shape in one line
    from trainlab import models

    model_cls = getattr(models, cls)
    shape = 64 if cls == "MLP" else (1, 8, 8)
    out = model_cls(shape, 10)(torch.zeros(2, *((64,) if cls == "MLP" else shape)))
    assert out.shape == (2, 10)
    with pytest.raises(UserError):
        model_cls("64", 10)
