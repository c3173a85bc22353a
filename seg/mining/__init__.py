"""The data loop: mine a model's badcases, label unlabelled images with a teacher, retrain."""
