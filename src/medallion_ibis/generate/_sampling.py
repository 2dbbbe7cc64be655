"""Random building blocks both generators draw from: people's names, dates, table sizes."""

import random
from dataclasses import dataclass
from datetime import date, timedelta

FEMALE_FIRST_NAMES = (
    "Amelia", "Ana", "Chloe", "Diana", "Elena", "Fatima", "Grace", "Hannah", "Isabel", "Julia",
    "Keiko", "Laura", "Maya", "Nadia", "Olivia", "Priya", "Rosa", "Sofia", "Tara", "Zoe",
)  # fmt: skip
MALE_FIRST_NAMES = (
    "Aaron", "Ben", "Carlos", "Daniel", "Ethan", "Felix", "George", "Hiro", "Ivan", "Jamal",
    "Kevin", "Liam", "Marco", "Noah", "Omar", "Paul", "Rahul", "Samuel", "Tomas", "Victor",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jensen",
    "Khan", "Lopez", "Martin", "Nguyen", "Okafor", "Patel", "Quinn", "Rossi", "Schmidt", "Tanaka",
    "Walker", "Young",
)  # fmt: skip


@dataclass(frozen=True)
class TableSize:
    """How a dimension table grows with the number of sales.

    One row per `sales_per_row` sales, clamped so that tiny runs still show variety and huge
    runs keep the table small enough to hold in memory.
    """

    sales_per_row: int
    minimum: int
    maximum: int

    def for_sales(self, sales: int) -> int:
        return min(self.maximum, max(self.minimum, sales // self.sales_per_row))


def random_date(rng: random.Random, first: date, last: date) -> date:
    """A uniformly drawn day between `first` and `last`, both included."""
    return first + timedelta(days=rng.randint(0, (last - first).days))
