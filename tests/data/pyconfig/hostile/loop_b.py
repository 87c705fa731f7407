_base_ = "loop_a.py"
