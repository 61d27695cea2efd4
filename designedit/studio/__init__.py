"""`dedit studio`: a live page for one scene, whose gestures are written into the scene file.

    board      the page's state: numbered snapshots, event-stream listeners woken on each publish
    live       the render loop: watch's Watcher, publishing pictures, errors and overlays on the board;
               gestures render at once; a newer change supersedes a render in flight
    overlays   removal / edit regions and each layer's outline where cut and where it lands (SVG paths, canvas px)
    gestures   a move / resize / flip written into the scene file through io.patch, only over the text it saw
    app        the FastAPI routes (spec/studio.md), served behind designedit.web's guard
    static/    the page: plain ES modules and CSS, no build step
"""
