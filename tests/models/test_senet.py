import torch
import torch.nn.functional as F

from lgrin_edge import create_model


def conv1d(x, weight, stride, padding):
    """Cross-correlation over the node axis: every window of x (B, C, L) times weight (O, C, K)."""
    windows = F.pad(x, (padding, padding)).unfold(2, weight.shape[2], stride)  # (B, C, L', K)
    return torch.einsum("bclk,ock->bol", windows, weight.double())


def batch_norm(x, bn):
    """Eval-mode batch normalisation with the layer's running statistics."""
    mean, var = bn.running_mean.double()[:, None], bn.running_var.double()[:, None]
    return (x - mean) / torch.sqrt(var + bn.eps) * bn.weight.double()[:, None] + bn.bias.double()[:, None]


def se_block(x, block):
    conv_a, bn_a, _, conv_b, bn_b = block.body
    y = torch.relu(batch_norm(conv1d(x, conv_a.weight, conv_a.stride[0], 1), bn_a))
    y = batch_norm(conv1d(y, conv_b.weight, 1, 1), bn_b)
    squeeze = y.mean(2)  # (B, C): one number per channel
    fc1, _, fc2, _ = block.excite
    excite = torch.sigmoid(
        torch.relu(squeeze @ fc1.weight.double().T + fc1.bias.double()) @ fc2.weight.double().T
        + fc2.bias.double()
    )
    if isinstance(block.shortcut, torch.nn.Identity):
        shortcut = x
    else:
        conv, bn = block.shortcut
        shortcut = batch_norm(conv1d(x, conv.weight, conv.stride[0], 0), bn)
    return torch.relu(y * excite[:, :, None] + shortcut)


def test_senet_equals_its_blocks_written_out():
    torch.manual_seed(0)
    # block 1: 8 -> 8 channels, identity shortcut; block 2: 8 -> 16, stride 2, projection shortcut
    m = create_model("senet", num_nodes=9, in_features=4, num_classes=3, widths=(8, 16), reduction=2).eval()
    with torch.no_grad():
        for bn in (mod for mod in m.modules() if isinstance(mod, torch.nn.BatchNorm1d)):
            bn.running_mean.normal_()
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.normal_()
            bn.bias.normal_()
    assert [b.squeezed for b in m.blocks] == [4, 8]  # max(C // reduction, 4)
    data = torch.randn(10, 9, 4) + 2
    m.norm.fit(data)
    x = torch.randn(2, 9, 4)

    d = data.double().reshape(-1, 4)
    y = ((x.double() - d.mean(0)) / d.std(0, unbiased=False)).transpose(1, 2)  # (B, features, nodes)
    conv, bn, _ = m.stem
    y = torch.relu(batch_norm(conv1d(y, conv.weight, 1, 1), bn))
    for block in m.blocks:
        y = se_block(y, block)
    ref = y.mean(2) @ m.classifier.weight.double().T + m.classifier.bias.double()

    with torch.no_grad():
        got = m(x)
    assert torch.allclose(got.double(), ref, atol=1e-4), (got, ref)


def test_print_shows_each_block():
    text = repr(create_model("senet", num_nodes=9, in_features=4, num_classes=3, widths=(8, 16), reduction=2))
    assert "SEBlock(\n      8 -> 8, stride=1, squeezed=4\n" in text
    assert "SEBlock(\n      8 -> 16, stride=2, squeezed=8\n" in text
