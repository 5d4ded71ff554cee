FROM scratch
COPPY bot /bot
