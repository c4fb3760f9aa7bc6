"""Dataset exchange: COCO, YOLO and MOT writers and readers.

Writers stream rows from iterator queries into a sink (a zip file or a folder) and never hold every
box in memory; readers parse a file into plain label items that the import service validates as a
whole before writing anything.
"""
