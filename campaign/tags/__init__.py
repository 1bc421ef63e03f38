"""Tags: an organizer's own labels on supporters ("volunteer", "met at the picket")."""
