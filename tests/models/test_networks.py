"""The PyTorch nets: shapes, parameter counts (as the seeds print them), rebuilding from JSON, augmentation."""

from __future__ import annotations

import pytest
import torch

from digitlab.models.neural import networks
from digitlab.models.neural import random_affine


def n_params(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize("name, out_shape", [
    ("MLP", (3, 10)), ("LeNet5", (3, 10)), ("CNN", (3, 10)), ("FastCNN", (3, 10)),
    ("PoolFirstCNN", (3, 10)),
    ("DAEMLP", (3, 784)), ("ConvDenoiser", (3, 1, 28, 28)),
])
def test_output_shapes(name, out_shape):
    torch.manual_seed(0)
    net = networks.build(name, {}).eval()
    assert net(torch.randn(3, 1, 28, 28)).shape == out_shape


def test_parameter_counts_match_the_seeds():
    assert n_params(networks.DAEMLP(networks.DAEMLPConfig())) == 16_474  # seed 001: 7,850 + 8,624
    assert n_params(networks.MLP(networks.MLPConfig())) == 784 * 400 + 400 + 400 * 10 + 10
    assert n_params(networks.LeNet5(networks.LeNet5Config())) == 44_426


def test_pool_first_cnn_normalises_pooled_maps_with_as_many_weights_as_fast_cnn():
    fast, pool_first = networks.build("FastCNN", {}), networks.build("PoolFirstCNN", {})
    assert n_params(fast) == n_params(pool_first)
    assert set(fast.state_dict()) != set(pool_first.state_dict())  # a file of one never loads as the other
    seen = []
    for module in pool_first.features:
        if isinstance(module, torch.nn.BatchNorm2d):
            module.register_forward_hook(lambda m, i, o: seen.append(tuple(i[0].shape[2:])))
    assert pool_first.eval()(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    assert seen == [(14, 14), (7, 7), (3, 3)]  # batch norm after each pooling: a quarter of FastCNN's values


def test_build_from_json_config_turns_lists_into_tuples():
    net = networks.build("CNN", {"n_classes": 3, "widths": [4, 8, 16], "dropout": 0.0})
    assert net.config.widths == (4, 8, 16)
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 3)


def test_unknown_net_is_refused():
    with pytest.raises(KeyError):
        networks.build("os.system", {})


def test_random_affine_is_seeded_and_zero_range_is_identity():
    x = torch.rand(4, 1, 28, 28)
    same = random_affine(x, torch.Generator().manual_seed(0), 0.0, 0.0, 0.0)
    assert torch.allclose(same, x, atol=1e-5)
    a = random_affine(x, torch.Generator().manual_seed(1), 10.0, 0.1, 2.0)
    b = random_affine(x, torch.Generator().manual_seed(1), 10.0, 0.1, 2.0)
    assert torch.equal(a, b) and not torch.allclose(a, x)
