"""The ``ci`` profile draws the same examples on every run, so a CI failure reproduces locally;
``thorough`` stays random, so it keeps finding examples the fixed ones miss."""

from hypothesis import given, settings
from hypothesis import strategies as st


def drawn_under(profile: str) -> list[int]:
    """The values one property test draws under ``profile``, in order."""
    drawn: list[int] = []

    @settings(settings.get_profile(profile), max_examples=20)
    @given(st.integers())
    def record(value: int) -> None:
        drawn.append(value)

    record()
    return drawn


def test_the_ci_profile_draws_the_same_examples_every_run() -> None:
    first, second = drawn_under("ci"), drawn_under("ci")
    assert len(set(first)) > 1
    assert first == second


def test_the_thorough_profile_stays_random() -> None:
    assert not settings.get_profile("thorough").derandomize
    assert drawn_under("thorough") != drawn_under("thorough")
