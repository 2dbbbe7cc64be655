"""A pytest plugin for ``nox -s mutants``: try each mutant against whole test modules.

mutmut runs a mutant only against the tests during which its function ran in the stats run.
The rule tests build their models once per module (module-scoped fixtures; crm_erp's
``CompiledPipeline`` compiles every model once), so a model's functions run during the first
test of the module only, and their mutants would be tried against that one test. At the end of
the stats run this plugin widens each function's tests to every selected test of the modules
it ran in. Outside mutmut's stats run it does nothing.

mutmut passes a mutant's tests as a list in set order, which interleaves the modules; pytest
then tears a module fixture down each time the next test is in another module and builds it
again (a survivor's 103 tests took 340 s instead of 90). So every run under mutmut puts each
module's tests together, in file order.
"""

import os
from collections import defaultdict

import pytest


def module_of(nodeid: str) -> str:
    return nodeid.removeprefix("mutants/").split("::")[0]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if "MUTANT_UNDER_TEST" in os.environ:
        items.sort(key=lambda item: (module_of(item.nodeid), item.location[1] or 0))


def pytest_sessionfinish(session: pytest.Session) -> None:
    if os.environ.get("MUTANT_UNDER_TEST") != "stats":
        return
    from mutmut.state import state

    tests_by_module: defaultdict[str, set[str]] = defaultdict(set)
    for item in session.items:
        tests_by_module[module_of(item.nodeid)].add(item.nodeid.removeprefix("mutants/"))
    for tests in state().tests_by_mangled_function_name.values():
        modules = {module_of(nodeid) for nodeid in tests}
        tests.update(*(tests_by_module[module] for module in modules))
