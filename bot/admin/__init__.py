"""Running the shop from the admin group: access, the desk behind the admin commands,
alerts and the sales feed, broadcasts, statistics, forum topics, support, vendor health."""
