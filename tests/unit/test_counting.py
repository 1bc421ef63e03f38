import pytest

from campaign.petitions.services import displayed_goal


@pytest.mark.parametrize(("count", "goal", "shown"), [
    (0, 1000, 1000),
    (999, 1000, 1000),
    (1000, 1000, 2000),
    (1999, 1000, 2000),
    (2000, 1000, 2500),
    (2600, 1000, 5000),
    (5000, 1000, 10000),
    (12345, 10000, 20000),
    (0, 0, 1),
    (7, 5, 10),
])
def test_the_goal_rises_to_the_next_step_once_reached(count, goal, shown):
    assert displayed_goal(count, goal) == shown
