"""The box on the desk: buttons and LED, what it is doing now, its network name, its claim code and password, uploaded sounds."""
