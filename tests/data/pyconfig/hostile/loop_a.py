_base_ = "./loop_b.py"
