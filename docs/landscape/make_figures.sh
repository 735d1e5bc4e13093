#!/bin/sh
# Regenerates the figures and numbers of docs/landscape.md (2-core CPU, one thread: ~15 min).
set -e
export OMP_NUM_THREADS=1
cd "$(dirname "$0")/../.."
L="python -m cs_core landscape"
D=docs/landscape
$L heatmap --widths 50,500 --m 200 --starts 32 --method gd --steps 100 --seed 0 --device cpu --out $D/heatmap-gd.png
$L heatmap --widths 50,500 --m 200 --starts 32 --method negation --steps 100 --seed 0 --device cpu --out $D/heatmap-negation.png
$L heatmap --widths 20,100,500 --m 200 --starts 32 --method gd --steps 100 --seed 0 --device cpu --out $D/heatmap-gd-3layers.png
for method in gd adam negation; do
  $L descend --widths 50,500 --m 200 --starts 256 --method $method --steps 300 --seed 0 --device cpu --json > $D/descend-$method.json
  $L descend --widths 20,100,500 --m 200 --starts 256 --method $method --steps 300 --seed 0 --device cpu --json > $D/descend-3layers-$method.json
done
$L phase --k 2 --widths 50,500 --m 1,2,3,4,6,8,12,16,32,64 --trials 100 --steps 300 --seed 0 --device cpu --json --out $D/phase-k2.png > $D/phase-k2.json
$L phase --k 5,10,20,40 --widths 100,600 --m-per-k 1,2,3,4,6,8 --trials 100 --steps 200 --seed 0 --device cpu --json --out $D/phase-scaling.png > $D/phase-scaling.json
$L slice --prior vae --m 100 --restarts 8 --steps 1000 --grid 80 --seed 0 --device cpu --out $D/slice-vae.png
$L slice --prior dcgan --m 1000 --restarts 4 --steps 500 --grid 24 --seed 0 --device cpu --out $D/slice-dcgan.png
