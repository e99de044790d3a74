import math

import torch

from lgrin_edge import create_model
from lgrin_edge.models.gcn import normalized_adjacency


def test_normalised_adjacency_of_a_three_node_chain_by_hand():
    # A + I = [[1,1,0],[1,1,1],[0,1,1]], degrees 2, 3, 2
    chain = torch.tensor([[0.0, 1, 0], [1, 0, 1], [0, 1, 0]])
    r6 = 1 / math.sqrt(6)
    expected = torch.tensor([[1 / 2, r6, 0], [r6, 1 / 3, r6], [0, r6, 1 / 2]])
    assert torch.allclose(normalized_adjacency(chain), expected, atol=1e-7)


def test_gcn_equals_equation_2_written_out():
    torch.manual_seed(0)
    m = create_model("gcn", num_nodes=6, in_features=4, num_classes=3, hidden=5, num_layers=2).eval()
    data = torch.randn(20, 6, 4) * 3 + 1
    m.norm.fit(data)
    x = torch.randn(2, 6, 4)

    # the reference, in float64: z-scored input, D^-1/2 (A_b + I) D^-1/2 H W + b, ReLU, [max | mean]
    d = data.double().reshape(-1, 4)
    h = (x.double() - d.mean(0)) / d.std(0, unbiased=False)
    a = torch.eye(6, dtype=torch.float64)
    for i in range(5):
        a[i, i + 1] = a[i + 1, i] = 1.0
    d_inv_sqrt = torch.diag(a.sum(1) ** -0.5)
    a_hat = d_inv_sqrt @ a @ d_inv_sqrt
    for fc in m.layers:
        h = torch.relu(a_hat @ h @ fc.weight.double().T + fc.bias.double())
    pooled = torch.cat([h.max(1).values, h.mean(1)], dim=1)
    ref = pooled @ m.classifier.weight.double().T + m.classifier.bias.double()

    with torch.no_grad():
        got = m(x)
    assert torch.allclose(got.double(), ref, atol=1e-5), (got, ref)
