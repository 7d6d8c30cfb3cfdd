"""The agent's link to the controller: the HTTP client and its errors, registration, the assignment long-poll
and state reports, and the relays the controller asks for (exec sessions, log uploads).
"""
