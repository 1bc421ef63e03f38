"""Supporters' personal data: what is kept, for how long, and the privacy notice."""
