"""A stand-in for the AWS getting-started tutorial's ``moviedata.json``: 4,610 movies.

The tutorial loads 4,610 movies shaped like ``{"year": 2013, "title": "Rush",
"info": {"directors": [...], "release_date": "...", "rating": 8.3, "genres": [...],
"image_url": "...", "plot": "...", "rank": 2, "running_time_secs": 7380,
"actors": [...]}}``. That file is not shipped here, so this module makes a data
set of the same size and shape, the same every time (a seeded generator): years
1920-2018 with most movies in recent years, titles that sort across the
alphabet, some movies without a rating, a plot, actors or genres (as in the
real file), ratings with one decimal, and numbers that are ints or Decimals.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

__all__ = ["MOVIE_COUNT", "movies"]

MOVIE_COUNT = 4610

# fmt: off
_WORDS = (
    "Night", "Love", "Dark", "Last", "Lost", "City", "Star", "Man", "Woman", "Dead", "Blood",
    "Secret", "Girl", "Boy", "World", "Day", "House", "War", "Road", "River", "King", "Queen",
    "Ghost", "Heart", "Fire", "Ice", "Moon", "Sun", "Storm", "Shadow", "Dream", "Return", "Rise",
    "Fall", "Alien", "Zero", "Yellow", "Quiet", "Iron", "Velvet", "Paper", "Silver", "Broken",
    "Hidden",
)
# fmt: on
_GENRES = ("Drama", "Comedy", "Action", "Thriller", "Romance", "Crime", "Sci-Fi", "Horror")
_FIRST = ("Tom", "Anna", "Jean", "Larry", "Moe", "Curly", "Maria", "Ken", "Lucy", "Omar")
_LAST = ("Hanks", "Smith", "Reno", "Kim", "Garcia", "Rossi", "Ito", "Novak", "Diaz", "Berg")


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def movies(seed: int = 1) -> list[dict[str, Any]]:
    """The movies, as the tutorial's JSON loads them (numbers as ``Decimal``)."""
    rng = random.Random(seed)
    seen: set[tuple[int, str]] = set()
    out: list[dict[str, Any]] = []
    while len(out) < MOVIE_COUNT:
        year = 2018 - int(rng.triangular(0, 98, 0))
        title = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.15:
            title = f"The {title}"
        if (year, title) in seen:
            continue
        seen.add((year, title))
        info: dict[str, Any] = {
            "directors": [_person(rng)],
            "release_date": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T00:00:00Z",
            "image_url": f"http://example.org/{year}/{len(out)}.jpg",
            "rank": len(out) + 1,
            "running_time_secs": rng.randint(60, 200) * 60,
        }
        if rng.random() < 0.9:
            info["rating"] = Decimal(rng.randint(10, 99)) / 10
        if rng.random() < 0.9:
            info["genres"] = rng.sample(_GENRES, rng.randint(1, 3))
        if rng.random() < 0.85:
            info["plot"] = f"A story about {rng.choice(_WORDS).lower()} and {_person(rng)}."
        if rng.random() < 0.9:
            info["actors"] = [_person(rng) for _ in range(rng.randint(1, 3))]
        out.append({"year": year, "title": title, "info": info})
    return out
