"""The public namespace is what the README and the notebooks import."""

import subprocess
import sys

import restate_lab

EXPECTED = {
    "IngressApi", "LocalRestate", "RestateError", "RetryPolicy", "SendReceipt", "Target", "__version__",
    "SAME_KEY", "Bursty", "Call", "Catalogue", "Constant", "Empirical", "Exponential", "Fixed", "FromCallable",
    "HandlerBehaviour", "KafkaSubscription", "LogNormal", "Poisson", "Send", "SimulatedRestate", "Simulation",
    "Sleep", "Uniform", "Work", "Workload", "Zipf", "consumer_lag_frame", "invocations_frame", "kafka_frame",
    "load_scenario", "queue_depth_frame", "simulation_from_dict", "summary_frame", "utilisation_frame",
    "parameter_paths", "sweep",
}


def test_all_lists_exactly_the_public_names() -> None:
    """``__all__`` is the documented public API, and every name in it exists."""
    assert set(restate_lab.__all__) == EXPECTED
    for name in restate_lab.__all__:
        assert hasattr(restate_lab, name), name


def test_importing_the_package_loads_no_notebook_libraries() -> None:
    """``import restate_lab`` stays light: no matplotlib, no ipywidgets until a notebook asks."""
    code = "import sys, restate_lab; print('matplotlib' in sys.modules, 'ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_local_restate_satisfies_the_shared_ingress_protocol() -> None:
    """The runtime facade can stand wherever an ``IngressApi`` target is expected."""
    assert issubclass(restate_lab.LocalRestate, restate_lab.IngressApi)
