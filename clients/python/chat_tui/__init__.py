"""chat-tui: a terminal client for the chat server (Textual, on chat_client)."""
