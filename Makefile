# Two commands do all the set-up on a fresh machine:
#   make demo   — install (first time only) and serve the demo on http://127.0.0.1:7860
#   make test   — install (first time only, Chromium included) and run every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test test-fast setup chromium bench bench-app bench-tabs bench-costs loadtest results gpu-check

demo: setup
	GRADIO_ANALYTICS_ENABLED=False $(BIN)/python demo_app.py

# One torch thread in tests: the app server, its clients and Chromium share 2 cores, and torch's
# spinning worker threads slow tiny problems 10-30x under such contention.
test: setup chromium
	GRADIO_ANALYTICS_ENABLED=False OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q

# Everything but the tests that drive Chromium or start the app (markers in pytest.ini).
test-fast: setup
	GRADIO_ANALYTICS_ENABLED=False OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -m "not browser and not server"

setup: $(VENV)/.installed checkpoints/dcgan_faces.tar

$(VENV)/.installed: requirements.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-test.txt
	touch $@

checkpoints/dcgan_faces.tar: $(VENV)/.installed
	$(BIN)/python -m cs_core.fetch_weights

chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; }

bench: setup
	$(BIN)/python -m cs_core bench

# The measured tables of docs/benchmarks.md and docs/app.md, each written as JSON under docs/bench (run each on a
# quiet machine): the app's overhead through the API, the Landscape and Sketch tabs' first clicks in Chromium,
# and the load tests (one served app on LOADTEST_PORT: many Reconstruct visitors, every tab at once, each tab's maxima).
DAY = $(shell date +%F)
LOADTEST_PORT ?= 7907
bench-app: setup
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core bench --app --json > docs/bench/app-cpu-1thread-$(DAY).json

# What each method costs alone at its defaults (cs_core/run_costs.json): the app's planned-time check reads it.
bench-costs: setup
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core.run_budget

bench-tabs: setup chromium
	GRADIO_ANALYTICS_ENABLED=False OMP_NUM_THREADS=1 $(BIN)/python tests/bench_tabs_browser.py --repeats 3 \
	  > docs/bench/tabs-browser-cpu-1thread-$(DAY).json

loadtest: setup
	GRADIO_ANALYTICS_ENABLED=False OMP_NUM_THREADS=1 $(BIN)/python demo_app.py --port $(LOADTEST_PORT) & server=$$!; \
	  trap 'kill $$server' EXIT; url=http://127.0.0.1:$(LOADTEST_PORT)/; \
	  until $(BIN)/python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1])' $$url 2>/dev/null; \
	    do sleep 1; done; \
	  OMP_NUM_THREADS=1 $(BIN)/python -m ui.loadtest --url $$url --sessions 8 --runs 3 --iters 200 --json \
	    > docs/bench/loadtest-reconstruct-$(DAY).json && \
	  OMP_NUM_THREADS=1 $(BIN)/python -m ui.loadtest --url $$url --profile mixed --sessions 8 --seconds 120 --json \
	    > docs/bench/loadtest-mixed-$(DAY).json && \
	  OMP_NUM_THREADS=1 $(BIN)/python -m ui.loadtest --url $$url --profile maxima --json > docs/bench/loadtest-maxima-$(DAY).json

# The booth's GPU check (ui/gpu_check.py): on CUDA, the tests that take a device, the bench, and the app's faces,
# landscape and sketch examples through its API, each step cut at its budget (8 minutes in all); writes
# docs/bench/cuda-<date>.json and .md. Without a GPU it says so in one line.
gpu-check:
	@if nvidia-smi -L >/dev/null 2>&1; then $(MAKE) --no-print-directory setup && \
	  GRADIO_ANALYTICS_ENABLED=False $(BIN)/python -m ui.gpu_check; \
	else echo "gpu-check: no CUDA device on this machine (nvidia-smi lists none); nothing to check"; fi

# The full sweeps behind docs/RESULTS.md (resumable: rows already in a results.csv are kept). Each image is measured
# with its own A, noise and solver starts from its image seed (cs_core/experiments/splits.py); a sweep refuses a
# results.csv of rows measured with one A shared by the images (docs/RESULTS.md, "Protocol": move it aside first).
# Hours on a CPU, minutes on a GPU; one torch thread is the fastest setting on a shared 2-core CPU.
# Hyper-parameters per sweep point on the validation images (cs_core/experiments/validation.py): Lasso's/TV's λ
# ratio, and DIP's step count (its MSE per validation image and count in the out directory's validation.csv).
# The MRI and deblurring sweeps (docs/RESULTS.md, "MRI and deblurring").
UNTRAINED := sensor,lasso-wavelet,tv,dip,csgm-dcgan
MRI := --operator fourier --accel 4 --center 0.08 --lines random --noise 0.01
BLUR := --operator blur --kernel gaussian --sigma 1.5 --noise 0.01
# one image of each as the app shows it (its defaults, seed 0)
EXAMPLE := --method lasso-wavelet --method tv --method dip --method csgm-dcgan

results: setup
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core sweep --domain mnist --methods lasso-pixel,lasso-dct,csgm-vae --images 100 --out docs/results/mnist
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core sweep --domain mnist --methods lasso-pixel,lasso-dct,csgm-vae,csgm-sketch --images 100 --out docs/results/mnist-sketch
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core sweep --domain mnist --methods oracle-vae,oracle-sketch --m 100 --images 100 --out docs/results/mnist-sketch/oracle
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core sweep --domain mnist --methods lasso-pixel,lasso-dct,csgm-vae --images 100 --noise 0.01 --out docs/results/mnist-noise0.01
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core sweep --domain mnist --methods lasso-pixel,lasso-dct,csgm-vae --source real --out docs/results/mnist-real
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core sweep --domain faces --methods lasso-dct,lasso-wavelet,csgm-dcgan --images 32 --source inrange --out docs/results/faces-inrange
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core sweep --domain faces --methods lasso-dct,lasso-wavelet,csgm-dcgan --source real --out docs/results/faces-real
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core sweep --domain faces --methods $(UNTRAINED) $(MRI) --source inrange --images 4 --out docs/results/faces-mri-inrange
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core sweep --domain faces --methods $(UNTRAINED) $(MRI) --source real --out docs/results/faces-mri-real
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core sweep --domain faces --methods $(UNTRAINED) $(BLUR) --source inrange --images 4 --out docs/results/faces-blur-inrange
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core sweep --domain faces --methods $(UNTRAINED) $(BLUR) --source real --out docs/results/faces-blur-real
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core reconstruct --asset lfw-face-0 --domain faces $(MRI) $(EXAMPLE) --png docs/results/faces-mri-real/example.png
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core reconstruct --asset face-gen-seed-1003 --domain faces $(MRI) $(EXAMPLE) --png docs/results/faces-mri-inrange/example.png
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core reconstruct --asset lfw-face-0 --domain faces $(BLUR) $(EXAMPLE) --png docs/results/faces-blur-real/example.png
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core beyond --out docs/results/faces-beyond
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core sweep --domain mnist --methods lasso-dct,lasso-pixel --images 100 --lam-rule per-image --out docs/results/lambda-rule/mnist
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core sweep --domain mnist --methods lasso-dct,lasso-pixel --images 100 --noise 0.01 --lam-rule per-image --out docs/results/lambda-rule/mnist-noise0.01
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core sweep --domain faces --source real --methods lasso-wavelet,lasso-dct --m 100,500,1000,2500 --lam-rule per-image --out docs/results/lambda-rule/faces-real
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core sweep --domain mnist --methods lasso-pixel,lasso-dct --images 100 --lasso-iters 10000 --out docs/results/lambda-rule/converged/mnist-validation
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core sweep --domain mnist --methods lasso-pixel,lasso-dct --images 100 --lasso-iters 10000 --lam-rule per-image --out docs/results/lambda-rule/converged/mnist-rule
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core sweep --domain mnist --methods lasso-pixel,lasso-dct --images 100 --noise 0.01 --lasso-iters 10000 --out docs/results/lambda-rule/converged/mnist-noise0.01-validation
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core sweep --domain mnist --methods lasso-pixel,lasso-dct --images 100 --noise 0.01 --lasso-iters 10000 --lam-rule per-image --out docs/results/lambda-rule/converged/mnist-noise0.01-rule
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core lambda-check --domain mnist --out docs/results/lambda-rule/trivial-mnist.csv
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core lambda-check --domain faces --out docs/results/lambda-rule/trivial-faces.csv
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core posterior-check --domain mnist --source val-inrange --images 10 --steps 400 --out docs/results/posterior/validation/steps400
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core posterior-check --domain mnist --source val-inrange --images 10 --steps 1600 --out docs/results/posterior/validation/steps1600
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core posterior-check --domain mnist --source val-inrange --images 4 --m 5,10,25,100,400 --reference --out docs/results/posterior/validation/reference
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core posterior-check --domain mnist --source inrange --images 10 --out docs/results/posterior
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core posterior-check --domain mnist --source real --images 10 --out docs/results/posterior
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core posterior-check --domain faces --source inrange --images 8 --out docs/results/posterior
	OMP_NUM_THREADS=1 $(BIN)/python -m cs_core posterior-check --domain faces --source real --images 2 --out docs/results/posterior
