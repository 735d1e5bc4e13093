"""The Hand–Voroninski landscape: why gradient descent on a random generative prior works.

Modules: ``network`` (random expansive ReLU nets, batched), ``rho`` (ρ_d, where the spurious
basin sits), ``risk`` (f(z) = ½‖A G(z) − y‖², also for trained priors), ``descent`` (GD, Adam,
GD + negation check as snapshot generators), ``grid`` (f on a plane), ``phase`` (success rate
vs m), ``cli`` (``python -m cs_core landscape ...``). See docs/landscape.md.
"""
