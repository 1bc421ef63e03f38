"""Downloads of campaign data for organizers: CSV that spreadsheets open safely."""
