#!/bin/bash
# TRP+SGM vs plain on the shipped recipe (--preset cpu, either-side loss), equal budget, then bench + real evaluation.
set -euo pipefail
cd /work/main && source .venv/bin/activate
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
while pgrep -f "ablation detector" > /dev/null; do sleep 20; done
common="--preset cpu --set train.steps=400 --set train.checkpoint_every=0 --set train.log_every=100 --set train.threads=1"
crowd-perception train pose $common --out runs/pose2d/eabl_plain --set model.use_trp=false --set model.use_sgm=false
crowd-perception train pose $common --out runs/pose2d/eabl_full
F=../shared/fixtures
NOTE='Each frame-mode model: `crowd-perception train pose --preset cpu --set train.steps=400 --set train.checkpoint_every=0 --set train.log_every=100 --set train.threads=1 --out runs/pose2d/eabl_<v> <flags>` (the shipped recipe: either-side loss, curriculum occlusion, domain adaptation), flags: plain = `--set model.use_trp=false --set model.use_sgm=false`, +TRP+SGM = none. Same cached frame bank and seed, one run after the other on the shared 2-core CPU (`runs/pose2d_ablation_either.sh`). One seed per variant: differences of a few points are within run-to-run noise.'
crowd-perception evaluate pose --threads 1 --model runs/pose2d/eabl_plain/model.safetensors --label plain --model runs/pose2d/eabl_full/model.safetensors --label +TRP+SGM --backend torch --data bench --frame-stride 10 --results pose2d-ablations-either --title '2D pose: TRP+SGM vs plain on the either-side recipe, synthetic bench (equal budget: 400 steps x 4 frames x 8 people)' --note "$NOTE"
crowd-perception evaluate pose --threads 1 --model runs/pose2d/eabl_plain/model.safetensors --label plain --model runs/pose2d/eabl_full/model.safetensors --label +TRP+SGM --backend torch --baseline mean-pose --data $F/coco_keypoints/coco/test_coco.json,$F/crowdpose/crowdpose/test_crowdpose.json,$F/ochuman/ochuman/test_ochuman.json --results pose2d-ablations-either-real --title '2D pose: TRP+SGM vs plain on the either-side recipe, real people (COCO, CrowdPose, OCHuman samples)' --note "$NOTE"
