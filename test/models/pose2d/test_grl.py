import pytest
import torch

from crowd_perception.models.pose2d.grl import DomainClassifier, dann_lambda, grad_reverse


def test_gradient_reversal_sign_and_scale():
    x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = grad_reverse(x, 0.3)
    torch.testing.assert_close(y, x.detach())  # identity forward
    (y * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    torch.testing.assert_close(x.grad, torch.tensor([-0.3, -0.6, -0.9]))


def test_domain_classifier_reverses_encoder_gradient():
    torch.manual_seed(0)
    features = torch.randn(4, 8, 3, 3, requires_grad=True)
    clf = DomainClassifier(8)
    clf.reverse.scale = 1.0
    loss = clf(features).sum()
    loss.backward()
    reversed_grad = features.grad.clone()
    features.grad = None
    clf.reverse.scale = 0.0
    clf(features).sum().backward()
    assert features.grad.abs().max() == 0.0
    pooled = features.detach().mean(dim=(2, 3)).requires_grad_(True)
    clf.mlp(pooled).sum().backward()
    expected = -pooled.grad[:, :, None, None].expand(-1, -1, 3, 3) / 9
    torch.testing.assert_close(reversed_grad, expected)


def test_dann_schedule():
    assert dann_lambda(0.0) == 0.0
    assert dann_lambda(1.0) == pytest.approx(1.0, abs=1e-4)
    assert 0 < dann_lambda(0.1) < dann_lambda(0.5) < 1
