"""Passwords found at the top of every published list of leaked passwords.

Short on purpose: the policy also rejects these words with digits, years or
symbols added around them, or written with look-alike characters (p@ssw0rd),
which covers far more of what attackers try first than a long list would.
Lower case; compared with the password lower-cased.
"""

COMMON_PASSWORDS = frozenset((
    "123456", "123456789", "12345678", "12345", "1234567", "1234567890", "1234", "111111", "000000",
    "123123", "654321", "123321", "121212", "112233", "666666", "696969", "7777777", "888888",
    "987654321", "11111111", "00000000", "123qwe", "qwe123", "123abc", "abc123", "a123456", "aa123456",
    "1q2w3e", "1q2w3e4r", "1q2w3e4r5t", "q1w2e3r4", "1qaz2wsx", "1qaz2wsx3edc", "zaq12wsx", "zaq1zaq1",
    "qazwsx", "qwerty", "qwertyui", "qwertyuiop", "asdf", "asdfgh", "asdfghjkl", "zxcvbn", "zxcvbnm",
    "password", "passw0rd", "password1", "pass", "letmein", "welcome", "welcome1", "login", "admin",
    "administrator", "root", "guest", "default", "changeme", "test", "secret", "access", "master",
    "hello", "iloveyou", "trustno1", "whatever", "freedom", "sunshine", "princess", "dragon", "monkey",
    "shadow", "superman", "batman", "starwars", "pokemon", "football", "baseball", "soccer", "hockey",
    "liverpool", "chelsea", "arsenal", "michael", "jennifer", "jordan", "hunter", "ashley", "charlie",
    "buster", "harley", "ranger", "thomas", "tigger", "robert", "daniel", "andrew", "jessica",
    "michelle", "nicole", "anthony", "george", "computer", "internet", "samsung", "google", "pepper",
    "killer", "summer", "matrix", "cheese", "maggie", "ginger", "flower", "lovely", "loveme",
    "babygirl", "mustang", "solo", "qwerty123", "password123", "iloveyou1"
))
