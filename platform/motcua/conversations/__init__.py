"""Citizens in the chat: inbound events, chat identities, commands, question threads."""
