"""DDP through the torchrun environment: two CPU (Gloo) processes train in lock step and end with
identical weights; rank 0 alone writes files; a parameter that no step reaches does not stop DDP."""

from __future__ import annotations

import os
import socket

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from crowd_perception.training import TrainConfig, init_distributed, select_device, train  # noqa: E402


class _Net(nn.Module):
    """A layer the loss uses and one it never reaches (as the 2D pose network's coarser FPN levels)."""

    def __init__(self) -> None:
        super().__init__()
        self.used, self.unused = nn.Linear(2, 1), nn.Linear(2, 1)

    def forward(self, x):
        return self.used(x)


class _Task(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.model = _Net()

    def forward(self, batch):
        x, y = batch
        return ((self.model(x) - y) ** 2).mean(), {}


def _worker(rank: int, port: int, out: str) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE="2", RANK=str(rank), LOCAL_RANK=str(rank)
    )
    torch.set_num_threads(1)
    ctx = init_distributed("cpu")
    assert ctx.distributed and ctx.rank == rank
    g = torch.Generator().manual_seed(rank)  # different data per rank: only gradient averaging syncs them
    batches = [(torch.randn(8, 2, generator=g), torch.randn(8, 1, generator=g)) for _ in range(3)]
    cfg = TrainConfig(steps=3, batch_size=8, lr=0.1, warmup_steps=1, log_every=1, checkpoint_every=0, threads=1)
    task = _Task()
    train(task, iter(batches), cfg, cfg, out, ctx)
    torch.save(task.model.state_dict(), os.path.join(out, f"rank{rank}.pt"))
    torch.distributed.destroy_process_group()


@pytest.mark.slow
def test_two_process_ddp(tmp_path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    torch.multiprocessing.spawn(_worker, args=(port, str(tmp_path)), nprocs=2, join=True)
    a = torch.load(tmp_path / "rank0.pt", weights_only=True)
    b = torch.load(tmp_path / "rank1.pt", weights_only=True)
    for k in a:
        torch.testing.assert_close(a[k], b[k])
    assert (tmp_path / "model.safetensors").is_file() and (tmp_path / "log.csv").is_file()


def test_cuda_without_index_is_this_processes_gpu(monkeypatch) -> None:
    """``--set train.device=cuda`` under torchrun: each process takes its own GPU, not all GPU 0."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert select_device("cuda", local_rank=3) == torch.device("cuda", 3)
    assert select_device("cuda:1", local_rank=3) == torch.device("cuda", 1)
    assert select_device("auto", local_rank=2) == torch.device("cuda", 2)
