"""Events: pickets, rallies, vigils, marches, meetings and online gatherings, with RSVPs."""
