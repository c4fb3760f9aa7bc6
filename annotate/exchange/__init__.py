"""Dataset exchange: COCO, YOLO, MOT, CVAT, VOC and Label Studio writers and readers over plain rows.

No database here. Writers take the rows of annotate.exchange.rows (frames, boxes, clips, classes;
annotate.selectors.exports streams them from the database in chunks) and write them into a sink (a
zip file or a folder) one frame or box at a time, never holding every box in memory; readers parse a
file into plain label items that the import service validates as a whole before writing anything.
"""
