import torch

from lgrin_edge import create_model


def lstm_last_state(z, w_ih, w_hh, b_ih, b_hh):
    """The LSTM equations step by step (gates i, f, g, o in PyTorch's order): the last step's state."""
    hidden = w_hh.shape[1]
    h = c = torch.zeros(z.shape[0], hidden, dtype=z.dtype)
    for t in range(z.shape[1]):
        i, f, g, o = (z[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh).split(hidden, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
    return h


def weights(lstm, suffix):
    return [
        getattr(lstm, f"{n}_l0{suffix}").double() for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]


def test_blstm_equals_the_lstm_equations_both_ways():
    torch.manual_seed(0)
    m = create_model("blstm", num_nodes=5, in_features=3, num_classes=4, hidden=6).eval()
    data = torch.randn(10, 5, 3) * 2 - 1
    m.norm.fit(data)
    x = torch.randn(2, 5, 3)

    d = data.double().reshape(-1, 3)
    z = (x.double() - d.mean(0)) / d.std(0, unbiased=False)
    forward = lstm_last_state(z, *weights(m.lstm, ""))
    # the reverse direction reads the nodes M..1; its last state is that of node 1
    backward = lstm_last_state(z.flip(1), *weights(m.lstm, "_reverse"))
    ref = torch.cat([forward, backward], dim=1) @ m.classifier.weight.double().T + m.classifier.bias.double()

    with torch.no_grad():
        got = m(x)
    assert torch.allclose(got.double(), ref, atol=1e-5), (got, ref)
